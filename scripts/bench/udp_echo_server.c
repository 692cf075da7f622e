/* UDP echo server (RFC 862) for the Linux side of scripts/bench/udp_echo.sh.
 *
 * usage: udp_echo_server PORT [BATCH]      (BATCH datagrams per syscall, 1..1024, default 64)
 *
 * One blocking UDP socket on 0.0.0.0:PORT.  recvmmsg(MSG_WAITFORONE) takes whatever has
 * arrived, up to BATCH datagrams, as soon as there is one; sendmmsg sends every one back
 * to its sender in one call.  Batching both ways is the cheapest a plain socket program
 * can answer (one syscall pair per batch, not per datagram), so it is the fairest
 * user-space peer for a busy-polling stack.  Prints "ready port=P batch=B" once bound and,
 * on SIGTERM or SIGINT, "received=R sent=S send_errors=E recv_calls=C" (the counts of the
 * whole run), then exits 0.  Built by udp_echo.sh at run time with cc; not part of the
 * project's build.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BATCH 1024
#define BUF_BYTES 2048 /* a datagram of the 1500-byte MTU fits */

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s PORT [BATCH]\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  int batch = argc > 2 ? atoi(argv[2]) : 64;
  if (port < 1 || port > 65535 || batch < 1 || batch > MAX_BATCH) {
    fprintf(stderr, "udp_echo_server: PORT 1..65535, BATCH 1..%d\n", MAX_BATCH);
    return 2;
  }

  /* No SA_RESTART: a signal ends the blocking recvmmsg with EINTR. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("udp_echo_server: socket");
    return 1;
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    perror("udp_echo_server: bind");
    return 1;
  }

  static char bufs[MAX_BATCH][BUF_BYTES];
  static struct sockaddr_in peers[MAX_BATCH];
  static struct iovec iov[MAX_BATCH];
  static struct mmsghdr msgs[MAX_BATCH];

  printf("ready port=%d batch=%d\n", port, batch);
  fflush(stdout);

  unsigned long long received = 0, sent = 0, send_errors = 0, recv_calls = 0;
  while (!stop) {
    for (int i = 0; i < batch; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = BUF_BYTES;
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &peers[i];
      msgs[i].msg_hdr.msg_namelen = sizeof peers[i];
    }
    int n = recvmmsg(fd, msgs, (unsigned)batch, MSG_WAITFORONE, NULL);
    recv_calls++;
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("udp_echo_server: recvmmsg");
      return 1;
    }
    received += (unsigned long long)n;
    /* The replies: each received datagram, as long as it arrived, to its sender. */
    for (int i = 0; i < n; i++) iov[i].iov_len = msgs[i].msg_len;
    int done = 0;
    while (done < n) {
      int m = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);
      if (m < 0) {
        if (errno == EINTR && !stop) continue;
        /* e.g. ENOBUFS: this datagram is lost, like a full TX ring; go on with the rest */
        send_errors++;
        done++;
        continue;
      }
      sent += (unsigned long long)m;
      done += m;
    }
  }
  printf("received=%llu sent=%llu send_errors=%llu recv_calls=%llu\n", received, sent, send_errors,
         recv_calls);
  fflush(stdout);
  close(fd);
  return 0;
}
