/* sl_intake_reply: evhttp answers with a body. */
#include "sl_intake_reply.h"

#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

static const char *reason(int code)
{
    switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

void sl_intake_reply(struct evhttp_request *req, int code, const char *ctype,
                     const char *body, size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", ctype);
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add(out, body, len);
    evhttp_send_reply(req, code, reason(code), NULL);
}

void sl_intake_reply_json(struct evhttp_request *req, int code, sl_buf *b)
{
    sl_buf_putc(b, '\n');
    sl_intake_reply(req, code, "application/json", b->data ? b->data : "",
                    b->len);
}

void sl_intake_reply_error(struct evhttp_request *req, int code,
                           const char *msg, sl_buf *scratch)
{
    sl_buf_reset(scratch);
    sl_buf_append(scratch, "{\"error\":", 9);
    sl_buf_json_string(scratch, msg, strlen(msg));
    sl_buf_putc(scratch, '}');
    sl_intake_reply_json(req, code, scratch);
}
