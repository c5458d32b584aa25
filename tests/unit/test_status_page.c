/* Unit tests for sl_status_page without connectors: every text from the
 * configuration is HTML-escaped, the page is whole, and escaping copes
 * with hostile and empty input. */
#include <stdlib.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_status_page.h"
#include "sl_test.h"

static size_t none(void *arg, sl_connector *const **cs)
{
    (void)arg;
    *cs = NULL;
    return 0;
}

static void test_escape(void)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_status_page_escape(&b, "", 0) == 0);
    CHECK(b.len == 0);
    const char in[] = "<script>alert('x')</script>&\"a\0b";
    CHECK(sl_status_page_escape(&b, in, sizeof in - 1) == 0);
    CHECK(b.len == strlen("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
                          "&amp;&quot;a") + 2);
    CHECK(memcmp(b.data, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
                 "&amp;&quot;a", b.len - 2) == 0);
    sl_buf_free(&b);
    /* a buffer that cannot grow: -1 */
    sl_buf_init(&b, 8);
    CHECK(sl_status_page_escape(&b, "<<<<<<<<", 8) == -1);
    sl_buf_free(&b);
}

static void test_page_escapes_config_texts(void)
{
    const char *listeners[] = {"http 127.0.0.1:8080", "tcp <b>\"x\"</b> to a&b"};
    sl_status_page_info info = {"1.0<script>", 0, listeners, 2};
    sl_status_page *p = sl_status_page_new(NULL, &info, none, NULL);
    CHECK(p != NULL);
    CHECK(sl_status_page_sample(p, 1000) == 0);
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_status_page_render(p, 3723000, &b) == 0);
    const char *s = sl_buf_cstr(&b);
    CHECK(strstr(s, "<script") == NULL);
    CHECK_CONTAINS(s, "sluice 1.0&lt;script&gt;");
    CHECK_CONTAINS(s, "tcp &lt;b&gt;&quot;x&quot;&lt;/b&gt; to a&amp;b");
    CHECK_CONTAINS(s, "<meta http-equiv=\"refresh\" content=\"10\">");
    CHECK_CONTAINS(s, "<p class=\"meta\">up ");
    CHECK_CONTAINS(s, "last 15m");
    CHECK_CONTAINS(s, "</tbody></table>");
    CHECK_CONTAINS(s, "</html>\n");
    sl_buf_free(&b);
    sl_status_page_free(p);
    sl_status_page_free(NULL);
}

/* A reload moved a listener: the page shows the lines set last. */
static void test_set_listeners(void)
{
    const char *start[] = {"http 127.0.0.1:8080", "admin 127.0.0.1:9090"};
    sl_status_page_info info = {"1.0", 0, start, 2};
    sl_status_page *p = sl_status_page_new(NULL, &info, none, NULL);
    CHECK(p != NULL);
    const char *now[] = {"http 127.0.0.1:8081 (TLS)"};
    CHECK(sl_status_page_set_listeners(p, now, 1) == 0);
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_status_page_render(p, 1000, &b) == 0);
    const char *s = sl_buf_cstr(&b);
    CHECK_CONTAINS(s, "http 127.0.0.1:8081 (TLS)");
    CHECK(strstr(s, "127.0.0.1:8080") == NULL);
    CHECK(strstr(s, "admin 127.0.0.1:9090") == NULL);
    CHECK(sl_status_page_set_listeners(p, NULL, 0) == 0);
    sl_buf_reset(&b);
    CHECK(sl_status_page_render(p, 1000, &b) == 0);
    CHECK(strstr(sl_buf_cstr(&b), "127.0.0.1:8081") == NULL);
    sl_buf_free(&b);
    sl_status_page_free(p);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"escape", test_escape},
        {"page_escapes_config_texts", test_page_escapes_config_texts},
        {"set_listeners", test_set_listeners},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
