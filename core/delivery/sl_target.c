/* sl_target: a request's URL, as written or rendered from its record. */
#include "sl_target.h"

#include <stdio.h>

#include "sl_fieldtpl.h"

const char *sl_target_record(const sl_connector_conf *c, const sl_batch *recs,
                             size_t *len)
{
    *len = 0;
    if (!c->record_tpls)
        return NULL;
    return sl_batch_record(recs, sl_batch_current(recs).from, len);
}

sl_target_rc sl_target_url(const sl_connector_conf *c, const sl_batch *recs,
                           sl_buf *buf, const char **url, char *why,
                           size_t whylen)
{
    sl_schema_error bad;
    size_t len;
    const char *rec = sl_target_record(c, recs, &len);
    *url = c->url;
    if (!rec)
        return SL_TARGET_OK;
    if (sl_fieldtpl_check_list(c->record_tpls, rec, len, &bad) != 0) {
        if (bad.field[0])
            snprintf(why, whylen, "field \"%s\": %s", bad.field, bad.msg);
        else
            snprintf(why, whylen, "%s", bad.msg);
        return SL_TARGET_BAD;
    }
    if (!c->url_tpl) /* placeholders in headers only */
        return SL_TARGET_OK;
    sl_buf_reset(buf);
    /* BAD is not possible here: the values were checked above */
    if (sl_fieldtpl_render(c->url_tpl, rec, len, buf, &bad) != SL_FIELDTPL_OK ||
        sl_buf_putc(buf, '\0') != 0)
        return SL_TARGET_NOMEM;
    *url = buf->data;
    return SL_TARGET_OK;
}
