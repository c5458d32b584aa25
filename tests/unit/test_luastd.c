/* Unit tests for sl_luastd, the `sluice` module as a script sees it:
 * digests and MACs against RFC 4231 and FIPS 180 vectors, base64 against
 * RFC 4648 section 10, hex, uuid, now, log (what reached stderr), env and
 * sluice.json's empty arrays. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "sl_log.h"
#include "sl_luahost.h"
#include "sl_luajson.h"
#include "sl_luastd.h"
#include "sl_test.h"

/* Run `code` as the file "conf/test.lua" in a fresh state (sl_luastd_new,
 * the one a connector file gets) with a memory cap of `limit` bytes (0:
 * none). Returns the error ("" if none); a string or number result goes to
 * ret as text. */
static const char *run_capped(size_t limit, const char *code, char *ret,
                              size_t retlen)
{
    static char err[512];
    err[0] = '\0';
    if (ret)
        ret[0] = '\0';
    lua_State *L = sl_luastd_new(limit, err, sizeof err);
    CHECK(L != NULL);
    if (!L)
        return err;
    CHECK(sl_luahost_set_file(L, "conf/test.lua") == 0);
    if (luaL_loadbufferx(L, code, strlen(code), SL_LUAHOST_CHUNK, "t") !=
        LUA_OK) {
        snprintf(err, sizeof err, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
    } else if (sl_luahost_pcall(L, 0, 1, 10000000, err, sizeof err) ==
               LUA_OK) {
        if (ret && (lua_type(L, -1) == LUA_TSTRING ||
                    lua_type(L, -1) == LUA_TNUMBER))
            snprintf(ret, retlen, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    CHECK(lua_gettop(L) == 0);
    sl_luahost_free(L);
    return err;
}

static const char *run(const char *code, char *ret, size_t retlen)
{
    return run_capped(0, code, ret, retlen);
}

/* The result of `expr` (a Lua expression giving a string). */
static const char *eval(const char *expr)
{
    static char r[4096];
    char code[4096];
    snprintf(code, sizeof code, "return %s", expr);
    const char *err = run(code, r, sizeof r);
    if (*err) {
        fprintf(stderr, "error in %s: %s\n", expr, err);
        CHECK(!"Lua error");
    }
    return r;
}

/* ---- digests ---------------------------------------------------------- */

static void test_sha256(void)
{
    /* FIPS 180-2 appendix B.1 and the empty message */
    CHECK_STR(eval("sluice.hex(sluice.sha256('abc'))"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_STR(eval("sluice.hex(sluice.sha256(''))"),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_STR(eval("#sluice.sha256('abc') .. ''"), "32");
    CHECK_CONTAINS(run("return sluice.sha256()", NULL, 0),
                   "bad argument #1 to 'sha256' (string expected, got no "
                   "value)");
}

static void test_hmac_sha256(void)
{
    /* RFC 4231 test case 1 */
    CHECK_STR(eval("sluice.hex(sluice.hmac_sha256(string.rep('\\x0b', 20), "
                   "'Hi There'))"),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* test case 2: a key shorter than the output */
    CHECK_STR(eval("sluice.hex(sluice.hmac_sha256('Jefe', "
                   "'what do ya want for nothing?'))"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* test case 3: key 20 x 0xaa, data 50 x 0xdd */
    CHECK_STR(eval("sluice.hex(sluice.hmac_sha256(string.rep('\\xaa', 20), "
                   "string.rep('\\xdd', 50)))"),
              "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    /* test case 6: a 131-byte key, longer than the block, hashed first */
    CHECK_STR(eval("sluice.hex(sluice.hmac_sha256(string.rep('\\xaa', 131), "
                   "'Test Using Larger Than Block-Size Key - Hash Key First'))"),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    /* test case 7: long key and long data */
    CHECK_STR(eval("sluice.hex(sluice.hmac_sha256(string.rep('\\xaa', 131), "
                   "'This is a test using a larger than block-size key and a "
                   "larger than block-size data. The key needs to be hashed "
                   "before being used by the HMAC algorithm.'))"),
              "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    /* an empty key is a valid key (python3: hmac.new(b'', b'x', sha256)) */
    CHECK_STR(eval("sluice.hex(sluice.hmac_sha256('', 'x'))"),
              "4cbc96099a6467ce002461f10549b4898265ebe6188b45efacc44293516e62c4");
    CHECK_STR(eval("#sluice.hmac_sha256('', '') .. ''"), "32");
    /* keys and data are bytes: embedded NULs count */
    CHECK_STR(eval("tostring(sluice.hmac_sha256('k\\0a', 'd') ~= "
                   "sluice.hmac_sha256('k\\0b', 'd'))"), "true");
    CHECK_CONTAINS(run("return sluice.hmac_sha256('k')", NULL, 0),
                   "bad argument #2 to 'hmac_sha256'");
}

/* ---- base64 ------------------------------------------------------------ */

static void test_base64_rfc4648(void)
{
    static const char *const vec[][3] = {
        /* RFC 4648 section 10: input, "std", "url" */
        {"", "", ""},
        {"f", "Zg==", "Zg"},
        {"fo", "Zm8=", "Zm8"},
        {"foo", "Zm9v", "Zm9v"},
        {"foob", "Zm9vYg==", "Zm9vYg"},
        {"fooba", "Zm9vYmE=", "Zm9vYmE"},
        {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
    };
    char e[256];
    for (size_t i = 0; i < sizeof vec / sizeof *vec; i++) {
        snprintf(e, sizeof e, "sluice.base64_encode('%s')", vec[i][0]);
        CHECK_STR(eval(e), vec[i][1]);
        snprintf(e, sizeof e, "sluice.base64_encode('%s', 'std')", vec[i][0]);
        CHECK_STR(eval(e), vec[i][1]);
        snprintf(e, sizeof e, "sluice.base64_encode('%s', 'url')", vec[i][0]);
        CHECK_STR(eval(e), vec[i][2]);
        snprintf(e, sizeof e, "sluice.base64_decode('%s')", vec[i][1]);
        CHECK_STR(eval(e), vec[i][0]);
        /* url: with or without the padding */
        snprintf(e, sizeof e, "sluice.base64_decode('%s', 'url')", vec[i][2]);
        CHECK_STR(eval(e), vec[i][0]);
        snprintf(e, sizeof e, "sluice.base64_decode('%s', 'url')", vec[i][1]);
        CHECK_STR(eval(e), vec[i][0]);
    }
}

static void test_base64_alphabets(void)
{
    /* 62 and 63: "+/" in std, "-_" in url */
    CHECK_STR(eval("sluice.base64_encode('\\xfb\\xef\\xbe')"), "++++");
    CHECK_STR(eval("sluice.base64_encode('\\xfb\\xef\\xbe', 'url')"), "----");
    CHECK_STR(eval("sluice.base64_encode('\\xff\\xff\\xff')"), "////");
    CHECK_STR(eval("sluice.base64_encode('\\xff\\xff\\xff', 'url')"), "____");
    CHECK_STR(eval("sluice.base64_encode('\\xfb\\xff')"), "+/8=");
    CHECK_STR(eval("sluice.base64_encode('\\xfb\\xff', 'url')"), "-_8");
    CHECK_STR(eval("sluice.hex(sluice.base64_decode('+/8='))"), "fbff");
    CHECK_STR(eval("sluice.hex(sluice.base64_decode('-_8', 'url'))"), "fbff");
    CHECK_STR(eval("sluice.hex(sluice.base64_decode('-_8=', 'url'))"), "fbff");
    /* every byte value, every length mod 3, both variants, round trip */
    CHECK_STR(eval("(function() "
                   "  local all = {} for i = 0, 255 do all[#all + 1] = "
                   "    string.char(i) end "
                   "  all = table.concat(all) "
                   "  for n = 0, 256 do "
                   "    local s = all:sub(1, n) "
                   "    for _, v in ipairs{'std', 'url'} do "
                   "      local e = sluice.base64_encode(s, v) "
                   "      if sluice.base64_decode(e, v) ~= s then "
                   "        return 'fail ' .. v .. ' ' .. n end "
                   "      if v == 'url' and e:find('[+/=]') then "
                   "        return 'std char in url ' .. n end "
                   "      if v == 'std' and (#e % 4 ~= 0 or e:find('[-_]')) "
                   "        then return 'bad std ' .. n end "
                   "    end "
                   "  end "
                   "  return 'ok' end)()"),
              "ok");
    /* what Python's base64.b64encode gives for the same bytes */
    CHECK_STR(eval("sluice.base64_encode('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')"),
              "TWZLUTlyOEdLWXFyVHdqVVBEOElMUFpJbzJMYUxhU3c=");
    CHECK_CONTAINS(run("return sluice.base64_encode('x', 'mime')", NULL, 0),
                   "bad argument #2 to 'base64_encode' (invalid option "
                   "'mime')");
}

static void test_base64_decode_errors(void)
{
    static const char *const bad_std[] = {
        "Zg",        /* std needs the padding */
        "Zg=",       /* bad length */
        "Zm9vY",     /* one char over a group: never valid */
        "Zm9v!A==",  /* not in the alphabet */
        "Zm=v",      /* padding in the middle */
        "Zg===",     /* three pads */
        "====",      /* padding only */
        " Zg==",     /* whitespace */
        "Zg==\\n",   /* a newline */
        "-_8=",      /* the url alphabet */
        "Zm9v\\0A==", /* a NUL */
    };
    static const char *const bad_url[] = {
        "Zm9vY", "Zg=", "Zg===", "Zm=v", "+/8", "Z g", "====", "A",
    };
    char code[256], r[256];
    for (size_t i = 0; i < sizeof bad_std / sizeof *bad_std; i++) {
        snprintf(code, sizeof code, "local v, e = sluice.base64_decode('%s') "
                 "return tostring(v) .. ',' .. tostring(e)", bad_std[i]);
        CHECK_STR(run(code, r, sizeof r), "");
        CHECK_STR(r, "nil,invalid base64");
    }
    for (size_t i = 0; i < sizeof bad_url / sizeof *bad_url; i++) {
        snprintf(code, sizeof code, "local v, e = sluice.base64_decode('%s', "
                 "'url') return tostring(v) .. ',' .. tostring(e)", bad_url[i]);
        CHECK_STR(run(code, r, sizeof r), "");
        CHECK_STR(r, "nil,invalid base64");
    }
    /* non-zero unused trailing bits are accepted */
    CHECK_STR(eval("sluice.base64_decode('Zh==')"), "f");
    CHECK_STR(eval("sluice.base64_decode('Zm9=')"), "fo");
    CHECK_STR(eval("sluice.base64_decode('')"), "");
}

/* ---- hex, uuid, now ----------------------------------------------------- */

static void test_hex(void)
{
    CHECK_STR(eval("sluice.hex('')"), "");
    CHECK_STR(eval("sluice.hex('\\0\\1\\x7f\\x80\\xab\\xff')"), "00017f80abff");
    CHECK_STR(eval("sluice.hex('abc')"), "616263");
    CHECK_STR(eval("sluice.hex(42)"), "3432"); /* numbers as strings */
    CHECK_CONTAINS(run("return sluice.hex({})", NULL, 0),
                   "bad argument #1 to 'hex' (string expected, got table)");
}

static void test_uuid(void)
{
    const char *pat = "'^[0-9a-f]+%-[0-9a-f]+%-4[0-9a-f]+%-[89ab][0-9a-f]+%-"
                      "[0-9a-f]+$'";
    char e[512];
    snprintf(e, sizeof e, "(function() "
             "  local seen = {} "
             "  for i = 1, 1000 do "
             "    local u = sluice.uuid() "
             "    if #u ~= 36 or not u:find(%s) then return 'bad ' .. u end "
             "    local a, b, c, d, f = u:match('^(%%x+)-(%%x+)-(%%x+)-(%%x+)-"
             "(%%x+)$') "
             "    if #a ~= 8 or #b ~= 4 or #c ~= 4 or #d ~= 4 or #f ~= 12 "
             "      then return 'groups ' .. u end "
             "    if seen[u] then return 'repeated ' .. u end "
             "    seen[u] = true "
             "  end "
             "  return 'ok' end)()", pat);
    CHECK_STR(eval(e), "ok");
    CHECK_STR(eval("tostring(sluice.uuid() ~= sluice.uuid())"), "true");
}

/* CLOCK_REALTIME in ms, as sluice.now() reads it (time(2) reads a
 * coarse clock that may lag it by a tick, across a second's edge). */
static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1000 + (double)(ts.tv_nsec / 1000000);
}

static void test_now(void)
{
    char r[64];
    double before = wall_ms();
    CHECK_STR(run("return string.format('%.3f', sluice.now())", r, sizeof r),
              "");
    double after = wall_ms();
    double now = strtod(r, NULL) * 1000;
    CHECK(now >= before - 1 && now <= after + 1);
    /* a float with milliseconds, nothing finer */
    CHECK_STR(eval("math.type(sluice.now())"), "float");
    CHECK_STR(eval("(function() local t = sluice.now() "
                   "return tostring(math.abs(t * 1000 - math.floor(t * 1000 "
                   "+ 0.5)) < 1e-3) end)()"),
              "true");
    CHECK_STR(eval("(function() local a = sluice.now() "
                   "local b = sluice.now() return tostring(b >= a) end)()"),
              "true");
}

/* ---- log ---------------------------------------------------------------- */

/* Run code with stderr captured; returns what was written (static). */
static const char *capture_stderr(const char *code)
{
    static char buf[8192];
    char err[512];
    FILE *tmp = tmpfile();
    CHECK(tmp != NULL);
    if (!tmp)
        return "";
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    snprintf(err, sizeof err, "%s", run(code, NULL, 0));
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof buf - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    CHECK_STR(err, "");
    return buf;
}

static void test_log(void)
{
    sl_log_level old = sl_log_get_level();
    sl_log_set_level(SL_LOG_INFO);
    const char *out = capture_stderr(
        "local t = setmetatable({}, {__tostring = function() return 'T' end})\n"
        "sluice.log.info('hello', 1, 2.5, nil, true, t)\n"
        "sluice.log.warn()\n"
        "sluice.log.error('bad \"quote\"\\n', {})\n");
    CHECK_CONTAINS(out, "\"level\":\"info\",\"component\":\"lua:test.lua\","
                        "\"msg\":\"conf/test.lua:2: hello 1 2.5 nil true T\"}\n");
    CHECK_CONTAINS(out, "\"level\":\"warn\",\"component\":\"lua:test.lua\","
                        "\"msg\":\"conf/test.lua:3: \"}\n");
    CHECK_CONTAINS(out, "\"level\":\"error\",\"component\":\"lua:test.lua\","
                        "\"msg\":\"conf/test.lua:4: bad \\\"quote\\\"\\n "
                        "table: 0x");
    /* below the threshold: nothing, and no work done */
    sl_log_set_level(SL_LOG_WARN);
    CHECK_STR(capture_stderr("sluice.log.info('quiet')"), "");
    sl_log_set_level(old);
    /* a __tostring that raises is the script's error, reported as such */
    CHECK_CONTAINS(run("sluice.log.error(setmetatable({}, {__tostring = "
                       "function() error('no') end}))", NULL, 0),
                   "conf/test.lua:1: no");
    CHECK_STR(eval("type(sluice.log.info) .. type(sluice.log.warn) .. "
                   "type(sluice.log.error)"), "functionfunctionfunction");
}

/* ---- env, json, the module's shape -------------------------------------- */

static void test_env(void)
{
    setenv("SLUICE_TEST_LUASTD_SET", "v", 1);
    setenv("SLUICE_TEST_LUASTD_EMPTY", "", 1);
    unsetenv("SLUICE_TEST_LUASTD_UNSET");
    CHECK_STR(eval("sluice.env('SLUICE_TEST_LUASTD_SET', 'd')"), "v");
    CHECK_STR(eval("sluice.env('SLUICE_TEST_LUASTD_EMPTY', 'd') .. '|'"), "|");
    CHECK_STR(eval("sluice.env('SLUICE_TEST_LUASTD_UNSET', 'd')"), "d");
    CHECK_STR(eval("tostring(sluice.env('SLUICE_TEST_LUASTD_UNSET', false))"),
              "false");
    CHECK_STR(eval("math.type(sluice.env('SLUICE_TEST_LUASTD_UNSET', 5))"),
              "integer");
    CHECK_STR(run("\nlocal x = sluice.env('SLUICE_TEST_LUASTD_UNSET')", NULL, 0),
              "conf/test.lua:2: environment variable SLUICE_TEST_LUASTD_UNSET "
              "is not set");
    unsetenv("SLUICE_TEST_LUASTD_SET");
    unsetenv("SLUICE_TEST_LUASTD_EMPTY");
}

static void test_json_and_shape(void)
{
    CHECK_STR(eval("type(sluice.json.null) .. tostring(sluice.json.null == "
                   "require('cjson').null)"), "userdatatrue");
    CHECK_STR(eval("sluice.json.encode({a = sluice.json.null})"),
              "{\"a\":null}");
    CHECK_STR(eval("tostring(sluice.json.decode('[null]')[1] == "
                   "sluice.json.null)"), "true");
    /* the lead's event-loop functions are not part of this module */
    CHECK_STR(eval("type(sluice.http) .. ',' .. type(sluice.sleep)"),
              "nil,nil");
    CHECK_STR(eval("(function() local t = {} for k in pairs(sluice) do "
                   "t[#t + 1] = k end table.sort(t) "
                   "return table.concat(t, ' ') end)()"),
              "base64_decode base64_encode env hex hmac_sha256 json log now "
              "sha256 uuid");
    /* once a runtime runs the state (sl_luastd_open_loop), they are there
     * and raise outside a task */
    char err[256];
    lua_State *L = sl_luastd_new(0, err, sizeof err);
    CHECK(L != NULL);
    if (L) {
        CHECK(sl_luastd_open_loop(L, err, sizeof err) == 0);
        CHECK(luaL_dostring(L, "return type(sluice.http.request) .. ',' .. "
                               "type(sluice.sleep) .. ',' .. "
                               "tostring(require('sluice') == sluice)") == 0);
        CHECK_STR(lua_tostring(L, -1), "function,function,true");
        lua_settop(L, 0);
        CHECK(luaL_dostring(L, "sluice.sleep(10)") != 0);
        CHECK_CONTAINS(lua_tostring(L, -1), "sluice.sleep is only available "
                       "in headers_fn or response_fn while sluice runs");
        sl_luahost_free(L);
    }
}

/* The Lua value of `expr` written as JSON by sl_luajson_write (static). */
static const char *written(lua_State *L, const char *expr)
{
    static char got[256];
    char code[512], err[128];
    snprintf(code, sizeof code, "return %s", expr);
    got[0] = '\0';
    if (luaL_dostring(L, code) != 0) {
        snprintf(got, sizeof got, "error: %s", lua_tostring(L, -1));
    } else {
        sl_buf out;
        sl_buf_init(&out, 0);
        if (sl_luajson_write(L, -1, &out, err, sizeof err) == 0)
            snprintf(got, sizeof got, "%.*s", (int)out.len, out.data);
        else
            snprintf(got, sizeof got, "error: %s", err);
        sl_buf_free(&out);
    }
    lua_settop(L, 0);
    return got;
}

/* JSON text pushed by sl_luajson_push and written back (static). */
static const char *round_trip(lua_State *L, const char *json)
{
    static char got[256];
    sl_json js;
    sl_json_token t;
    char err[128];
    sl_json_init(&js, json, strlen(json), 0);
    sl_json_next(&js, &t);
    CHECK(sl_luajson_push(L, &js, &t) == 0);
    sl_buf out;
    sl_buf_init(&out, 0);
    CHECK(sl_luajson_write(L, -1, &out, err, sizeof err) == 0);
    snprintf(got, sizeof got, "%.*s", (int)out.len, out.data ? out.data : "");
    sl_buf_free(&out);
    lua_settop(L, 0);
    return got;
}

/* An empty array from Lua: sluice.json.empty_array, array_mt; arrays read
 * from a record stay arrays when emptied. */
static void test_json_arrays(void)
{
    char err[256];
    lua_State *L = sl_luastd_new(0, err, sizeof err);
    CHECK(L != NULL);
    if (!L)
        return;
    CHECK_STR(written(L, "sluice.json.empty_array"), "[]");
    CHECK_STR(written(L, "{ sluice.json.empty_array, {} }"), "[[],{}]");
    CHECK_STR(written(L, "setmetatable({}, sluice.json.array_mt)"), "[]");
    CHECK_STR(written(L, "setmetatable({ 1, 2 }, sluice.json.array_mt)"),
              "[1,2]");
    CHECK_STR(written(L, "(function() local t = setmetatable({ 1 }, "
                         "sluice.json.array_mt) t[1] = nil return t end)()"),
              "[]");
    CHECK_STR(written(L, "{}"), "{}");
    CHECK_STR(written(L, "setmetatable({}, { __name = 'other' })"), "{}");
    CHECK_STR(written(L, "{ a = sluice.json.null }"), "{\"a\":null}");
    CHECK_STR(written(L, "tostring(getmetatable(sluice.json.array_mt) == nil) "
                         ".. type(sluice.json.empty_array)"),
              "\"trueuserdata\"");
    /* lua-cjson's own encoder does not know them */
    CHECK_STR(written(L, "tostring(pcall(sluice.json.encode, "
                         "sluice.json.empty_array))"), "\"false\"");
    CHECK_STR(round_trip(L, "[]"), "[]");
    CHECK_STR(round_trip(L, "[[],[1,[]],{}]"), "[[],[1,[]],{}]");
    CHECK_STR(round_trip(L, "{\"a\":[]}"), "{\"a\":[]}");
    /* an array emptied by a transform stays one */
    sl_json js;
    sl_json_token t;
    const char *doc = "[7]";
    sl_json_init(&js, doc, strlen(doc), 0);
    sl_json_next(&js, &t);
    CHECK(sl_luajson_push(L, &js, &t) == 0);
    lua_pushnil(L);
    lua_rawseti(L, -2, 1);
    sl_buf out;
    sl_buf_init(&out, 0);
    CHECK(sl_luajson_write(L, -1, &out, err, sizeof err) == 0);
    CHECK(out.len == 2 && memcmp(out.data, "[]", 2) == 0);
    sl_buf_free(&out);
    lua_settop(L, 0);
    sl_luahost_free(L);
}

static void test_memory_cap_applies(void)
{
    /* results are built in the state's own memory */
    CHECK_STR(run_capped(1 << 20, "local s = string.rep('x', 300000) "
                         "return #sluice.hex(s)", NULL, 0),
              "memory limit of 1 MiB exceeded");
    CHECK_STR(run_capped(1 << 20, "local s = string.rep('x', 600000) "
                         "return #sluice.base64_encode(s)", NULL, 0),
              "memory limit of 1 MiB exceeded");
    char r[32];
    CHECK_STR(run_capped(1 << 20, "return #sluice.base64_encode("
                         "string.rep('x', 30000))", r, sizeof r), "");
    CHECK_STR(r, "40000");
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"sha256", test_sha256},
        {"hmac_sha256", test_hmac_sha256},
        {"base64_rfc4648", test_base64_rfc4648},
        {"base64_alphabets", test_base64_alphabets},
        {"base64_decode_errors", test_base64_decode_errors},
        {"hex", test_hex},
        {"uuid", test_uuid},
        {"now", test_now},
        {"log", test_log},
        {"env", test_env},
        {"json_and_shape", test_json_and_shape},
        {"json_arrays", test_json_arrays},
        {"memory_cap_applies", test_memory_cap_applies},
        {NULL, NULL}};
    return sl_test_run(cases);
}
