/* sl_ingest: body → framed records + rejections. */
#include "sl_ingest.h"

#include <stdio.h>
#include <string.h>

#include "sl_check.h"

static int add_reject(sl_buf *rejects, sl_ingest_result *res, size_t index,
                      const char *field, const char *msg)
{
    if (res->listed >= SL_INGEST_MAX_LISTED)
        return 0;
    size_t mark = rejects->len;
    if ((res->listed > 0 && sl_buf_putc(rejects, ',') != 0) ||
        sl_buf_printf(rejects, "{\"index\":%zu,\"field\":", index) != 0 ||
        sl_buf_json_string(rejects, field, strlen(field)) != 0 ||
        sl_buf_append(rejects, ",\"error\":", 9) != 0 ||
        sl_buf_json_string(rejects, msg, strlen(msg)) != 0 ||
        sl_buf_putc(rejects, '}') != 0) {
        sl_buf_truncate(rejects, mark);
        return -1;
    }
    res->listed++;
    return 0;
}

typedef struct ingest_ctx {
    const sl_schema *schema;
    sl_transform *transform; /* NULL: records go straight to the check */
    sl_buf *block, *rejects;
    sl_ingest_result *res;
    size_t index; /* of the record being processed */
    int depth;
    size_t max_records; /* 0: any number */
} ingest_ctx;

/* One more record than the body may have: give up on the body. */
static int too_many(ingest_ctx *c)
{
    if (c->max_records == 0 || c->index < c->max_records)
        return 0;
    c->res->too_many = 1;
    return 1;
}

/* sl_transform_reject_fn: list a transform output's rejection. */
static int transform_reject(void *ud, const char *field, const char *msg)
{
    ingest_ctx *c = ud;
    return add_reject(c->rejects, c->res, c->index, field, msg);
}

/* Through the connector's transform; its outputs are framed or listed. */
static int transformed_record(ingest_ctx *c, sl_json *js,
                              const sl_json_token *first)
{
    sl_transform_result tr;
    int rc = sl_transform_record(c->transform, js, first, c->index, c->block,
                                 transform_reject, c, &tr);
    if (rc == 0) {
        c->res->accepted += tr.accepted;
        c->res->dropped += tr.dropped;
        c->res->rejected += tr.rejected;
    }
    return rc;
}

/* Straight to the schema check. */
static int checked_record(ingest_ctx *c, sl_json *js,
                          const sl_json_token *first)
{
    sl_schema_error err;
    switch (sl_check_record(c->schema, js, first, c->block, &err)) {
    case SL_SCHEMA_OK:
        c->res->accepted++;
        return 0;
    case SL_SCHEMA_INVALID:
        c->res->rejected++;
        return add_reject(c->rejects, c->res, c->index, err.field, err.msg);
    case SL_SCHEMA_SYNTAX:
        return 1;
    default:
        return -1;
    }
}

/* One record whose first token is `first`: framed, or listed as rejected.
 * With `whole_doc` the record must also end the document (an NDJSON line,
 * a single-object body); if it does not, whatever it produced is taken
 * back. Returns 0, 1 for malformed JSON (nothing framed or listed), -1 for
 * a full buffer. */
static int one_record(ingest_ctx *c, sl_json *js, const sl_json_token *first,
                      int whole_doc)
{
    int rc;
    if (!whole_doc) /* array elements: the per-record hot path */
        return c->transform ? transformed_record(c, js, first)
                            : checked_record(c, js, first);
    size_t block_mark = c->block->len, rejects_mark = c->rejects->len;
    sl_ingest_result before = *c->res;
    rc = c->transform ? transformed_record(c, js, first)
                      : checked_record(c, js, first);
    if (rc == 0) {
        sl_json_token t;
        if (sl_json_next(js, &t) != SL_JSON_END) {
            if (!js->err) {
                js->err = "trailing characters after the record";
                js->err_off = (size_t)(js->cur - js->start);
            }
            rc = 1;
        }
    }
    if (rc == 1) {
        sl_buf_truncate(c->block, block_mark);
        sl_buf_truncate(c->rejects, rejects_mark);
        *c->res = before;
    }
    return rc;
}

static int blank(const char *p, const char *e)
{
    for (; p < e; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            return 0;
    return 1;
}

static int ingest_json(ingest_ctx *c, const char *body, size_t len)
{
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, body, len, c->depth);
    if (blank(body, body + len)) {
        c->res->malformed = 1;
        c->res->error = "empty body";
        return 1;
    }
    sl_json_type ty = sl_json_next(&js, &t);
    int rc = 0;
    if (ty == SL_JSON_ARRAY_BEGIN) {
        for (c->index = 0;; c->index++) {
            ty = sl_json_next(&js, &t);
            if (ty == SL_JSON_ARRAY_END || ty == SL_JSON_ERROR)
                break;
            if (too_many(c))
                return 1;
            rc = one_record(c, &js, &t, 0);
            if (rc != 0)
                break;
        }
        if (rc == 0 && ty != SL_JSON_ERROR)
            ty = sl_json_next(&js, &t); /* must be END */
    } else if (ty != SL_JSON_ERROR) {
        c->index = 0;
        rc = one_record(c, &js, &t, 1);
        ty = rc == 0 ? SL_JSON_END : ty;
    }
    if (rc < 0)
        return -1;
    if (rc == 1 || ty != SL_JSON_END) {
        c->res->malformed = 1;
        c->res->error = js.err ? js.err : "malformed JSON";
        c->res->error_offset = js.err_off;
        return 1;
    }
    return 0;
}

static int ingest_ndjson(ingest_ctx *c, const char *body, size_t len)
{
    const char *p = body, *end = body + len;
    c->index = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        c->res->lines++;
        if (!blank(p, le)) {
            sl_json js;
            sl_json_token t;
            if (too_many(c))
                return 1;
            sl_json_init(&js, p, (size_t)(le - p), c->depth);
            int rc = 1;
            if (sl_json_next(&js, &t) != SL_JSON_ERROR)
                rc = one_record(c, &js, &t, 1);
            if (rc < 0)
                return -1;
            if (rc == 1) {
                char msg[160];
                snprintf(msg, sizeof msg,
                         "malformed JSON at byte %zu of the line: %s",
                         js.err_off, js.err ? js.err : "syntax error");
                c->res->rejected++;
                if (add_reject(c->rejects, c->res, c->index, "", msg) != 0)
                    return -1;
            }
            c->index++;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

int sl_ingest(const sl_schema *schema, sl_transform *transform,
              sl_ingest_format fmt, const char *body, size_t len,
              const sl_ingest_limits *lim, sl_buf *block, sl_buf *rejects,
              sl_ingest_result *res)
{
    memset(res, 0, sizeof *res);
    ingest_ctx c = {.schema = schema, .transform = transform, .block = block,
                    .rejects = rejects, .res = res,
                    .depth = lim ? lim->depth : 0,
                    .max_records = lim ? lim->records : 0};
    size_t block_mark = block->len, rejects_mark = rejects->len;
    int rc = fmt == SL_INGEST_NDJSON ? ingest_ndjson(&c, body, len)
                                     : ingest_json(&c, body, len);
    if (rc != 0) {
        /* nothing of a malformed body is accepted */
        sl_buf_truncate(block, block_mark);
        sl_buf_truncate(rejects, rejects_mark);
        res->accepted = res->rejected = res->listed = res->dropped = 0;
    }
    return rc < 0 ? -1 : 0;
}
