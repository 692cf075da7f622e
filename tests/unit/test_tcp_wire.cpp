// TCP header view and options (lib/wire/tcp.hpp: RFC 9293 3.1, RFC 7323,
// RFC 2018), on fixed byte arrays. The reference headers were made by
// scapy 2.5 with the checksum forced to 0 (TcpRepr::emit leaves it zero),
// e.g. bytes(TCP(sport=40000, dport=80, ..., chksum=0, options=[...])).
#include <gtest/gtest.h>

#include <cstring>
#include <ostream>
#include <vector>

#include "wire/tcp.hpp"

namespace dpdkstack::wire {

inline void PrintTo(TcpOptionError e, std::ostream* os) {
  switch (e) {
    case TcpOptionError::kNone: *os << "kNone"; return;
    case TcpOptionError::kTruncated: *os << "kTruncated"; return;
    case TcpOptionError::kBadLength: *os << "kBadLength"; return;
  }
  *os << "TcpOptionError(" << static_cast<int>(e) << ")";
}
inline void PrintTo(TcpError e, std::ostream* os) {
  switch (e) {
    case TcpError::kNone: *os << "kNone"; return;
    case TcpError::kTruncated: *os << "kTruncated"; return;
    case TcpError::kBadOffset: *os << "kBadOffset"; return;
  }
  *os << "TcpError(" << static_cast<int>(e) << ")";
}

namespace {

using Bytes = std::vector<uint8_t>;

// scapy: TCP(sport=40000, dport=80, seq=0x01020304, ack=0, flags='S', window=65535, chksum=0,
//   options=[('MSS',1460),('SAckOK',b''),('Timestamp',(1000,0)),('NOP',None),('WScale',7)])
// The layout Linux sends on a SYN.
const Bytes kSynHeader = {0x9c, 0x40, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
                          0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
                          0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};

// scapy: TCP(sport=80, dport=40000, seq=0xfffffff0, ack=0x01020305, flags='PA', window=502, chksum=0,
//   options=[('NOP',None),('NOP',None),('Timestamp',(12345,67890)),('NOP',None),('NOP',None),
//            ('SAck',(1000,2000,3000,4000))])
const Bytes kDataHeader = {0x00, 0x50, 0x9c, 0x40, 0xff, 0xff, 0xff, 0xf0, 0x01, 0x02, 0x03, 0x05, 0xd0,
                           0x18, 0x01, 0xf6, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x00, 0x00,
                           0x30, 0x39, 0x00, 0x01, 0x09, 0x32, 0x01, 0x01, 0x05, 0x12, 0x00, 0x00, 0x03,
                           0xe8, 0x00, 0x00, 0x07, 0xd0, 0x00, 0x00, 0x0b, 0xb8, 0x00, 0x00, 0x0f, 0xa0};

// scapy: TCP(sport=1, dport=2, seq=0, ack=0, flags='A', window=0, chksum=0,
//   options=[('NOP',None),('NOP',None),('SAck',(1,2,3,4,5,6,7,8))])
const Bytes kSack4Header = {0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x10,
                            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x05, 0x22, 0x00, 0x00, 0x00, 0x01,
                            0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00,
                            0x00, 0x05, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08};

// scapy: TCP(sport=1, dport=2, seq=5, ack=0, flags='S', window=29200, chksum=0,
//   options=[('MSS',536),('NOP',None),('NOP',None),('SAckOK',b''),('NOP',None),('WScale',14)])
const Bytes kSynNoTsHeader = {0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
                              0x00, 0x80, 0x02, 0x72, 0x10, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04,
                              0x02, 0x18, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x0e};

TcpOptionError parse(const Bytes& b, TcpOptions& o) { return parse_tcp_options(b.data(), b.size(), o); }
TcpOptionError parse(const Bytes& b) {
  TcpOptions o;
  return parse(b, o);
}
Bytes options_of(const Bytes& header) { return Bytes(header.begin() + 20, header.end()); }

// ---- parsing: every option kind ----------------------------------------------------------

TEST(TcpOptions, LinuxSynOptions_AllParsed) {
  TcpOptions o;
  ASSERT_EQ(parse(options_of(kSynHeader), o), TcpOptionError::kNone);
  EXPECT_TRUE(o.has_mss);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_TRUE(o.sack_permitted);
  EXPECT_TRUE(o.has_timestamps);
  EXPECT_EQ(o.ts_val, 1000u);
  EXPECT_EQ(o.ts_ecr, 0u);
  EXPECT_TRUE(o.has_wscale);
  EXPECT_EQ(o.wscale, 7);
  EXPECT_EQ(o.n_sack, 0);
}

TEST(TcpOptions, TimestampsAndSackBlocks_Parsed) {
  TcpOptions o;
  ASSERT_EQ(parse(options_of(kDataHeader), o), TcpOptionError::kNone);
  EXPECT_FALSE(o.has_mss);
  EXPECT_FALSE(o.has_wscale);
  EXPECT_FALSE(o.sack_permitted);
  EXPECT_TRUE(o.has_timestamps);
  EXPECT_EQ(o.ts_val, 12345u);
  EXPECT_EQ(o.ts_ecr, 67890u);
  ASSERT_EQ(o.n_sack, 2);
  EXPECT_EQ(o.sack[0], (TcpSackBlock{1000, 2000}));
  EXPECT_EQ(o.sack[1], (TcpSackBlock{3000, 4000}));
}

TEST(TcpOptions, EachKindAlone_Parsed) {
  TcpOptions o;
  ASSERT_EQ(parse({2, 4, 0xff, 0xff}, o), TcpOptionError::kNone);
  EXPECT_TRUE(o.has_mss);
  EXPECT_EQ(o.mss, 65535);
  EXPECT_EQ(o, (TcpOptions{.has_mss = true, .mss = 65535}));

  ASSERT_EQ(parse({3, 3, 0}, o), TcpOptionError::kNone);
  EXPECT_EQ(o, (TcpOptions{.has_wscale = true, .wscale = 0}));

  ASSERT_EQ(parse({4, 2}, o), TcpOptionError::kNone);
  EXPECT_EQ(o, (TcpOptions{.sack_permitted = true}));

  ASSERT_EQ(parse({8, 10, 0xff, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x01}, o), TcpOptionError::kNone);
  EXPECT_EQ(o, (TcpOptions{.has_timestamps = true, .ts_val = 0xffffffffu, .ts_ecr = 0x80000001u}));
}

TEST(TcpOptions, SackOneToFourBlocks_Parsed) {
  for (uint8_t n = 1; n <= 4; ++n) {
    Bytes b = {5, static_cast<uint8_t>(2 + 8 * n)};
    for (uint8_t k = 0; k < n; ++k) {
      uint8_t block[8] = {0, 0, 0, static_cast<uint8_t>(2 * k + 1), 0x80, 0, 0, static_cast<uint8_t>(2 * k + 2)};
      b.insert(b.end(), block, block + 8);
    }
    TcpOptions o;
    ASSERT_EQ(parse(b, o), TcpOptionError::kNone) << int(n);
    ASSERT_EQ(o.n_sack, n);
    for (uint8_t k = 0; k < n; ++k)
      EXPECT_EQ(o.sack[k], (TcpSackBlock{2u * k + 1, 0x80000000u + 2 * k + 2})) << int(n) << " " << int(k);
  }
  TcpOptions o;
  ASSERT_EQ(parse(options_of(kSack4Header), o), TcpOptionError::kNone);
  ASSERT_EQ(o.n_sack, 4);
  EXPECT_EQ(o.sack[3], (TcpSackBlock{7, 8}));
}

TEST(TcpOptions, EmptyArea_Nothing) {
  TcpOptions o;
  o.has_mss = true;  // cleared on entry
  EXPECT_EQ(parse_tcp_options(nullptr, 0, o), TcpOptionError::kNone);
  EXPECT_EQ(o, TcpOptions{});
}

TEST(TcpOptions, OutputCleared_BeforeParsing) {
  TcpOptions o;
  o.has_wscale = true;
  o.wscale = 9;
  o.n_sack = 3;
  ASSERT_EQ(parse({2, 4, 1, 0}, o), TcpOptionError::kNone);
  EXPECT_EQ(o, (TcpOptions{.has_mss = true, .mss = 256}));
}

// ---- NOP, EOL, unknown options ---------------------------------------------------------------

TEST(TcpOptions, NopsOnly_Nothing) {
  TcpOptions o;
  EXPECT_EQ(parse({1, 1, 1, 1}, o), TcpOptionError::kNone);
  EXPECT_EQ(o, TcpOptions{});
}

TEST(TcpOptions, Eol_EndsAreaAndGarbageAfterIgnored) {
  TcpOptions o;
  // MSS, EOL, then bytes that would be malformed options if read.
  ASSERT_EQ(parse({2, 4, 0x05, 0xb4, 0, 3, 0, 0xff}, o), TcpOptionError::kNone);
  EXPECT_EQ(o, (TcpOptions{.has_mss = true, .mss = 1460}));
  // EOL first: nothing at all.
  ASSERT_EQ(parse({0, 2, 4, 0x05, 0xb4}, o), TcpOptionError::kNone);
  EXPECT_EQ(o, TcpOptions{});
  // EOL as the last byte, padding after a NOP.
  ASSERT_EQ(parse({1, 3, 3, 2, 0, 0, 0, 0}, o), TcpOptionError::kNone);
  EXPECT_EQ(o, (TcpOptions{.has_wscale = true, .wscale = 2}));
}

TEST(TcpOptions, UnknownOptions_SkippedByLength) {
  TcpOptions o;
  // kind 30 (MPTCP) len 4, kind 34 (TFO cookie) len 2, kind 253 (experiment) len 6, then MSS.
  ASSERT_EQ(parse({30, 4, 0xaa, 0xbb, 34, 2, 253, 6, 1, 2, 3, 4, 2, 4, 0x02, 0x18}, o), TcpOptionError::kNone);
  EXPECT_EQ(o, (TcpOptions{.has_mss = true, .mss = 536}));
  // An unknown option whose bytes look like options is skipped whole.
  ASSERT_EQ(parse({99, 6, 2, 4, 0xff, 0xff, 4, 2}, o), TcpOptionError::kNone);
  EXPECT_EQ(o, (TcpOptions{.sack_permitted = true}));
}

TEST(TcpOptions, WindowScaleAbove14_Clamped) {
  for (int ws : {14, 15, 16, 100, 255}) {
    TcpOptions o;
    ASSERT_EQ(parse({3, 3, static_cast<uint8_t>(ws)}, o), TcpOptionError::kNone) << ws;
    EXPECT_TRUE(o.has_wscale);
    EXPECT_EQ(o.wscale, 14) << ws;  // RFC 7323 2.3: "use 14 instead of the specified value"
  }
  TcpOptions o;
  ASSERT_EQ(parse({3, 3, 13}, o), TcpOptionError::kNone);
  EXPECT_EQ(o.wscale, 13);
}

// ---- parsing: malformed ----------------------------------------------------------------------

TEST(TcpOptions, KindWithoutLengthByte_Truncated) {
  for (uint8_t kind : {2, 3, 4, 5, 8, 30, 255}) {
    EXPECT_EQ(parse({kind}), TcpOptionError::kTruncated) << int(kind);
    EXPECT_EQ(parse({1, 1, 1, kind}), TcpOptionError::kTruncated) << int(kind);
    EXPECT_EQ(parse({2, 4, 5, 0xb4, 1, 1, 1, kind}), TcpOptionError::kTruncated) << int(kind);
  }
}

TEST(TcpOptions, LengthZeroOrOne_BadLength) {
  // A length below 2 cannot even cover kind and length (it would loop forever).
  for (uint8_t kind : {2, 3, 4, 5, 8, 30}) {
    for (uint8_t len : {0, 1}) {
      EXPECT_EQ(parse({kind, len, 0, 0}), TcpOptionError::kBadLength) << int(kind) << "/" << int(len);
      EXPECT_EQ(parse({1, kind, len, 0}), TcpOptionError::kBadLength) << int(kind) << "/" << int(len);
    }
  }
}

TEST(TcpOptions, WrongFixedLength_BadLength) {
  // MSS must be 4.
  EXPECT_EQ(parse({2, 2, 1, 1}), TcpOptionError::kBadLength);
  EXPECT_EQ(parse({2, 3, 5, 1}), TcpOptionError::kBadLength);
  EXPECT_EQ(parse({2, 5, 5, 0xb4, 0}), TcpOptionError::kBadLength);
  // Window scale must be 3.
  EXPECT_EQ(parse({3, 2, 1, 1}), TcpOptionError::kBadLength);
  EXPECT_EQ(parse({3, 4, 7, 1}), TcpOptionError::kBadLength);
  // SACK-permitted must be 2.
  EXPECT_EQ(parse({4, 3, 0, 1}), TcpOptionError::kBadLength);
  EXPECT_EQ(parse({4, 4, 0, 0}), TcpOptionError::kBadLength);
  // Timestamps must be 10.
  EXPECT_EQ(parse({8, 8, 0, 0, 0, 1, 0, 0}), TcpOptionError::kBadLength);
  EXPECT_EQ(parse({8, 9, 0, 0, 0, 1, 0, 0, 0}), TcpOptionError::kBadLength);
  EXPECT_EQ(parse({8, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0}), TcpOptionError::kBadLength);
  EXPECT_EQ(parse({8, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}), TcpOptionError::kBadLength);
}

TEST(TcpOptions, SackZeroFiveOrRaggedBlocks_BadLength) {
  EXPECT_EQ(parse({5, 2, 1, 1}), TcpOptionError::kBadLength);  // no block
  Bytes five(42, 0);
  five[0] = 5;
  five[1] = 42;  // 5 blocks: more than can ever fit
  EXPECT_EQ(parse(five), TcpOptionError::kBadLength);
  for (uint8_t len : {3, 9, 11, 17, 25, 33}) {
    Bytes b(len, 0);
    b[0] = 5;
    b[1] = len;
    EXPECT_EQ(parse(b), TcpOptionError::kBadLength) << int(len);
  }
}

TEST(TcpOptions, OptionRunningPastArea_Truncated) {
  EXPECT_EQ(parse({2, 4, 5}), TcpOptionError::kTruncated);           // MSS cut
  EXPECT_EQ(parse({3, 3}), TcpOptionError::kTruncated);              // window scale without its byte
  EXPECT_EQ(parse({1, 1, 8, 10, 0, 0, 0, 1}), TcpOptionError::kTruncated);  // timestamps cut
  EXPECT_EQ(parse({30, 10, 1, 2, 3}), TcpOptionError::kTruncated);   // unknown option longer than the area
  EXPECT_EQ(parse({30, 255, 0, 0}), TcpOptionError::kTruncated);
  Bytes area(40, 1);  // 40 bytes of options; a 5-block SACK would need 42
  area[36] = 5;
  area[37] = 10;
  EXPECT_EQ(parse(area), TcpOptionError::kTruncated);
  Bytes five(40, 0);
  five[0] = 5;
  five[1] = 42;
  EXPECT_EQ(parse(five), TcpOptionError::kTruncated);
}

TEST(TcpOptions, EveryTruncationOfSynOptions_TruncatedOrPrefix) {
  const Bytes full = options_of(kSynHeader);  // MSS 0-3, SACK-perm 4-5, TS 6-15, NOP 16, WS 17-19
  for (size_t cut = 0; cut <= full.size(); ++cut) {
    TcpOptions o;
    TcpOptionError e = parse_tcp_options(full.data(), cut, o);
    bool boundary = cut == 0 || cut == 4 || cut == 6 || cut == 16 || cut == 17 || cut == 20;
    EXPECT_EQ(e, boundary ? TcpOptionError::kNone : TcpOptionError::kTruncated) << cut;
    if (e == TcpOptionError::kNone) {
      EXPECT_EQ(o.has_mss, cut >= 4) << cut;
      EXPECT_EQ(o.sack_permitted, cut >= 6) << cut;
      EXPECT_EQ(o.has_timestamps, cut >= 16) << cut;
      EXPECT_EQ(o.has_wscale, cut >= 20) << cut;
    }
  }
}

// ---- emitting --------------------------------------------------------------------------------

TcpOptionsOut linux_syn() {
  TcpOptionsOut o;
  o.syn = true;
  o.has_mss = true;
  o.mss = 1460;
  o.sack_permitted = true;
  o.has_timestamps = true;
  o.ts_val = 1000;
  o.ts_ecr = 0;
  o.has_wscale = true;
  o.wscale = 7;
  return o;
}

TEST(TcpRepr, SynLayout_MatchesScapyBytes) {
  TcpRepr r{40000, 80, 0x01020304, 0, tcpflag::kSyn, 65535, linux_syn()};
  ASSERT_EQ(r.header_len(), kSynHeader.size());
  Bytes out(60, 0xee);
  ASSERT_EQ(r.emit(out.data()), kSynHeader.size());
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 40), kSynHeader);
  EXPECT_EQ(out[40], 0xee);  // nothing written past the header
}

TEST(TcpRepr, SynWithoutTimestamps_MatchesScapyBytes) {
  TcpOptionsOut o;
  o.syn = true;
  o.has_mss = true;
  o.mss = 536;
  o.sack_permitted = true;
  o.has_wscale = true;
  o.wscale = 14;
  TcpRepr r{1, 2, 5, 0, tcpflag::kSyn, 29200, o};
  Bytes out(60, 0xee);
  ASSERT_EQ(r.emit(out.data()), kSynNoTsHeader.size());
  EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<long>(kSynNoTsHeader.size())), kSynNoTsHeader);
}

TEST(TcpRepr, DataLayout_MatchesScapyBytes) {
  TcpOptionsOut o;
  o.has_timestamps = true;
  o.ts_val = 12345;
  o.ts_ecr = 67890;
  o.n_sack = 2;
  o.sack[0] = {1000, 2000};
  o.sack[1] = {3000, 4000};
  TcpRepr r{80, 40000, 0xfffffff0, 0x01020305, tcpflag::kPsh | tcpflag::kAck, 502, o};
  Bytes out(60, 0xee);
  ASSERT_EQ(r.emit(out.data()), kDataHeader.size());
  EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<long>(kDataHeader.size())), kDataHeader);
}

TEST(TcpRepr, FourSackBlocksWithoutTimestamps_MatchesScapyBytes) {
  TcpOptionsOut o;
  o.n_sack = 4;
  o.sack = {{{1, 2}, {3, 4}, {5, 6}, {7, 8}}};
  TcpRepr r{1, 2, 0, 0, tcpflag::kAck, 0, o};
  Bytes out(60, 0xee);
  ASSERT_EQ(r.emit(out.data()), kSack4Header.size());
  EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<long>(kSack4Header.size())), kSack4Header);
}

TEST(TcpRepr, NoOptions_TwentyBytes) {
  TcpRepr r{1234, 80, 7, 9, tcpflag::kRst | tcpflag::kAck, 0, {}};
  Bytes out(60, 0xee);
  ASSERT_EQ(r.emit(out.data()), 20u);
  EXPECT_EQ(out[12], 0x50);
  EXPECT_EQ(out[13], 0x14);
  EXPECT_EQ(out[20], 0xee);
}

TEST(TcpOptionsEmit, SackWithTimestamps_LimitedToThreeBlocks) {
  TcpOptionsOut o;
  o.has_timestamps = true;
  o.ts_val = 1;
  o.ts_ecr = 2;
  o.n_sack = 4;
  o.sack = {{{10, 20}, {30, 40}, {50, 60}, {70, 80}}};
  uint8_t buf[64];
  std::memset(buf, 0xee, sizeof buf);
  size_t n = emit_tcp_options(o, buf);
  EXPECT_EQ(n, 40u);
  EXPECT_EQ(tcp_options_len(o), 40u);
  EXPECT_EQ(buf[40], 0xee);
  TcpOptions p;
  ASSERT_EQ(parse_tcp_options(buf, n, p), TcpOptionError::kNone);
  EXPECT_TRUE(p.has_timestamps);
  ASSERT_EQ(p.n_sack, 3);  // RFC 2018 3: with timestamps, at most 3 blocks fit in 40 bytes
  EXPECT_EQ(p.sack[0], (TcpSackBlock{10, 20}));
  EXPECT_EQ(p.sack[2], (TcpSackBlock{50, 60}));
}

TEST(TcpOptionsEmit, EveryCombination_AlignedBoundedAndRoundTrips) {
  for (int syn = 0; syn < 2; ++syn)
    for (int mss = 0; mss < 2; ++mss)
      for (int ws = 0; ws < 2; ++ws)
        for (int sp = 0; sp < 2; ++sp)
          for (int ts = 0; ts < 2; ++ts)
            for (uint8_t ns = 0; ns <= 4; ++ns) {
              TcpOptionsOut o;
              o.syn = syn != 0;
              o.has_mss = mss != 0;
              o.mss = 1400;
              o.has_wscale = ws != 0;
              o.wscale = 9;
              o.sack_permitted = sp != 0;
              o.has_timestamps = ts != 0;
              o.ts_val = 0x11223344;
              o.ts_ecr = 0x55667788;
              o.n_sack = ns;
              for (uint32_t k = 0; k < 4; ++k) o.sack[k] = {0xfffffff0u + 100 * k, 0xfffffff0u + 100 * k + 50};
              uint8_t buf[64];
              std::memset(buf, 0xee, sizeof buf);
              size_t n = emit_tcp_options(o, buf);
              std::string where = "syn " + std::to_string(syn) + " mss " + std::to_string(mss) + " ws " +
                                  std::to_string(ws) + " sp " + std::to_string(sp) + " ts " + std::to_string(ts) +
                                  " sack " + std::to_string(ns);
              EXPECT_EQ(n, tcp_options_len(o)) << where;
              EXPECT_EQ(n % 4, 0u) << where;
              EXPECT_LE(n, 40u) << where;
              EXPECT_EQ(buf[n], 0xee) << where;
              TcpOptions p;
              ASSERT_EQ(parse_tcp_options(buf, n, p), TcpOptionError::kNone) << where;
              TcpOptions want;
              if (o.syn) {
                want.has_mss = o.has_mss;
                want.mss = o.has_mss ? 1400 : 0;
                want.has_wscale = o.has_wscale;
                want.wscale = o.has_wscale ? 9 : 0;
                want.sack_permitted = o.sack_permitted;
              } else {
                uint8_t max_blocks = o.has_timestamps ? 3 : 4;
                want.n_sack = std::min(ns, max_blocks);
                for (size_t k = 0; k < want.n_sack; ++k) want.sack[k] = o.sack[k];
              }
              if (o.has_timestamps) {
                want.has_timestamps = true;
                want.ts_val = 0x11223344;
                want.ts_ecr = 0x55667788;
              }
              EXPECT_EQ(p, want) << where;
            }
}

// ---- the header view ---------------------------------------------------------------------------

TEST(TcpView, ScapySyn_FieldsRead) {
  TcpView v;
  ASSERT_EQ(TcpView::check(kSynHeader.data(), kSynHeader.size(), v), TcpError::kNone);
  EXPECT_EQ(v.src_port(), 40000);
  EXPECT_EQ(v.dst_port(), 80);
  EXPECT_EQ(v.seq(), 0x01020304u);
  EXPECT_EQ(v.ack(), 0u);
  EXPECT_EQ(v.header_len(), 40u);
  EXPECT_EQ(v.flags(), tcpflag::kSyn);
  EXPECT_EQ(v.window(), 65535);
  EXPECT_EQ(v.checksum(), 0);
  EXPECT_EQ(v.urgent(), 0);
  EXPECT_EQ(v.options_len(), 20u);
  EXPECT_EQ(v.options(), kSynHeader.data() + 20);
}

TEST(TcpView, ScapyData_FieldsRead) {
  Bytes seg = kDataHeader;
  seg.insert(seg.end(), {'h', 'e', 'l', 'l', 'o'});
  TcpView v;
  ASSERT_EQ(TcpView::check(seg.data(), seg.size(), v), TcpError::kNone);
  EXPECT_EQ(v.seq(), 0xfffffff0u);
  EXPECT_EQ(v.ack(), 0x01020305u);
  EXPECT_EQ(v.flags(), tcpflag::kPsh | tcpflag::kAck);
  EXPECT_EQ(v.window(), 502);
  EXPECT_EQ(v.header_len(), 52u);
  EXPECT_EQ(v.options_len(), 32u);
  TcpOptions o;
  ASSERT_EQ(parse_tcp_options(v.options(), v.options_len(), o), TcpOptionError::kNone);
  EXPECT_EQ(o.n_sack, 2);
}

TEST(TcpView, EveryTruncation_Rejected) {
  for (const Bytes* h : {&kSynHeader, &kDataHeader, &kSack4Header}) {
    for (size_t len = 0; len < h->size(); ++len) {
      TcpView v;
      TcpError e = TcpView::check(h->data(), len, v);
      EXPECT_EQ(e, len < 20 ? TcpError::kTruncated : TcpError::kBadOffset) << len;
    }
    TcpView v;
    EXPECT_EQ(TcpView::check(h->data(), h->size(), v), TcpError::kNone);
  }
  TcpView v;
  EXPECT_EQ(TcpView::check(nullptr, 40, v), TcpError::kTruncated);
}

TEST(TcpView, BadDataOffsets_Rejected) {
  Bytes seg(60, 0);
  for (uint8_t doff = 0; doff < 16; ++doff) {
    seg[12] = static_cast<uint8_t>(doff << 4);
    for (size_t len : {size_t{20}, size_t{40}, size_t{60}}) {
      TcpView v;
      TcpError want = doff < 5 || doff * 4u > len ? TcpError::kBadOffset : TcpError::kNone;
      EXPECT_EQ(TcpView::check(seg.data(), len, v), want) << int(doff) << " " << len;
    }
  }
  // The low nibble of byte 12 (reserved, AccECN) does not change the offset.
  seg[12] = 0x5f;
  TcpView v;
  ASSERT_EQ(TcpView::check(seg.data(), 20, v), TcpError::kNone);
  EXPECT_EQ(v.header_len(), 20u);
}

TEST(TcpView, ReprEmit_RoundTripsThroughView) {
  TcpOptionsOut o;
  o.has_timestamps = true;
  o.ts_val = 7;
  o.ts_ecr = 8;
  o.n_sack = 1;
  o.sack[0] = {0xfffffff0, 0x10};
  TcpRepr r{65535, 1, 0xffffffff, 0x80000000, tcpflag::kAck | tcpflag::kFin | tcpflag::kCwr, 0xabcd, o};
  Bytes out(60, 0);
  size_t hl = r.emit(out.data());
  ASSERT_EQ(hl, 44u);
  TcpView v;
  ASSERT_EQ(TcpView::check(out.data(), hl, v), TcpError::kNone);
  EXPECT_EQ(v.src_port(), 65535);
  EXPECT_EQ(v.dst_port(), 1);
  EXPECT_EQ(v.seq(), 0xffffffffu);
  EXPECT_EQ(v.ack(), 0x80000000u);
  EXPECT_EQ(v.flags(), tcpflag::kAck | tcpflag::kFin | tcpflag::kCwr);
  EXPECT_EQ(v.window(), 0xabcd);
  EXPECT_EQ(v.header_len(), 44u);
  TcpOptions p;
  ASSERT_EQ(parse_tcp_options(v.options(), v.options_len(), p), TcpOptionError::kNone);
  EXPECT_EQ(p.ts_val, 7u);
  ASSERT_EQ(p.n_sack, 1);
  EXPECT_EQ(p.sack[0], (TcpSackBlock{0xfffffff0, 0x10}));
}

}  // namespace
}  // namespace dpdkstack::wire
