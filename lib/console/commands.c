/*
 * rte_cmdline grammar for the console. Kept in C because rte_cmdline's
 * instruction type ends in a flexible array member, which C++ cannot
 * initialise. The grammar is deliberately thin: a verb and the rest of the
 * line; the C++ side (Console::execute) parses and answers, so that the
 * interactive console, the stats printer and the tests share one parser.
 */
#include <stdio.h>
#include <string.h>

#include <cmdline_parse.h>
#include <cmdline_parse_string.h>

#include "console/commands.h"

/* rte_cmdline's instructions end in a flexible array member that every
 * DPDK application initialises statically (a GNU C extension, the API's
 * intended use); -Wpedantic flags each one. */
#pragma GCC diagnostic ignored "-Wpedantic"

static void *g_data;

struct cmd_rest {
	cmdline_fixed_string_t verb;
	cmdline_multi_string_t rest;
};

struct cmd_verb {
	cmdline_fixed_string_t verb;
};

static void
cb_rest(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_rest *r = parsed;
	char line[sizeof(r->verb) + sizeof(r->rest) + 2];

	(void)data;
	snprintf(line, sizeof(line), "%s %s", r->verb, r->rest);
	dpdkstack_console_dispatch(line, cl, g_data);
}

static void
cb_verb(void *parsed, struct cmdline *cl, void *data)
{
	struct cmd_verb *r = parsed;

	(void)data;
	dpdkstack_console_dispatch(r->verb, cl, g_data);
}

static cmdline_parse_token_string_t tok_rest_verb =
	TOKEN_STRING_INITIALIZER(struct cmd_rest, verb, "show#clear#route#ping#filter#tcp");
static cmdline_parse_token_string_t tok_rest_rest =
	TOKEN_STRING_INITIALIZER(struct cmd_rest, rest, TOKEN_STRING_MULTI);

static cmdline_parse_inst_t inst_rest = {
	.f = cb_rest,
	.data = NULL,
	.help_str = "show port stats|xstats|info <id>|all, show arp|lcores|drops|mempool|route|ip|udp|filter|tcp [stats], filter reload|add|del, tcp connect|send|recv|close|abort|list, clear port stats all, route add|del, ping",
	.tokens = {
		(cmdline_parse_token_hdr_t *)&tok_rest_verb,
		(cmdline_parse_token_hdr_t *)&tok_rest_rest,
		NULL,
	},
};

static cmdline_parse_token_string_t tok_verb =
	TOKEN_STRING_INITIALIZER(struct cmd_verb, verb, "help#quit#exit#show");

static cmdline_parse_inst_t inst_verb = {
	.f = cb_verb,
	.data = NULL,
	.help_str = "help | quit",
	.tokens = {
		(cmdline_parse_token_hdr_t *)&tok_verb,
		NULL,
	},
};

cmdline_parse_ctx_t dpdkstack_console_ctx[] = {
	&inst_rest,
	&inst_verb,
	NULL,
};

void
dpdkstack_console_set_data(void *data)
{
	g_data = data;
}
