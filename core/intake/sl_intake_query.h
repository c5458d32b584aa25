/* sl_intake_query: the query parameters a POST of records takes (so far
 * dry_run); the others are ignored, as they always were. */
#ifndef SL_INTAKE_QUERY_H
#define SL_INTAKE_QUERY_H

#include <stddef.h>

/* The dry_run parameter of uri's query (uri as evhttp gives it, the query
 * after '?' up to '#'): *dry 1 for true or 1 (either case for true), 0
 * for false or 0, or no dry_run. 0, or -1 with msg set (another value, or
 * dry_run given twice); *dry is 0 then. Pure. */
int sl_intake_query_dry_run(const char *uri, int *dry, char *msg,
                            size_t msglen);

#endif
