/* sl_config_body: the connector key `body`, a form name or a table of the
 * form and its templates (body.form, body.template,
 * body.record_template), each template checked and compiled at load.
 * Private to the config module. */
#ifndef SL_CONFIG_BODY_H
#define SL_CONFIG_BODY_H

#include "sl_config_parse.h"

/* body (target: sl_config_connector_target): a string is the form, as
 * body.form; a table is parsed with key->sub (form first, then the
 * templates); absent, the array form without templates. */
void sl_config_parse_body(sl_config_parse_context *ctx,
                          const sl_config_key *key, int idx, void *target);

/* body.template and body.record_template: the string compiled with
 * sl_template for the form read before it (c.body) into the sl_template
 * pointer at key->off (owned by the connector; NULL when absent or
 * refused, with the reason reported at the key: the position in the
 * template and what is wrong there). A template is refused with the ndjson
 * form. */
void sl_config_parse_body_template(sl_config_parse_context *ctx,
                                   const sl_config_key *key, int idx,
                                   void *target);

#endif
