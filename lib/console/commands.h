/* The C side of the console grammar; see commands.c. */
#ifndef DPDKSTACK_CONSOLE_COMMANDS_H
#define DPDKSTACK_CONSOLE_COMMANDS_H

#include <cmdline_parse.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cmdline;

extern cmdline_parse_ctx_t dpdkstack_console_ctx[];
void dpdkstack_console_set_data(void *data);
/* Implemented in console.cpp: runs one command line and prints its output. */
void dpdkstack_console_dispatch(const char *line, struct cmdline *cl, void *data);

#ifdef __cplusplus
}
#endif

#endif
