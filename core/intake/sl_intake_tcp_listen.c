/* sl_intake_tcp_listen: see sl_intake_tcp_listen.h. */
#include "sl_intake_tcp_listen.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#define RETIRE_TICK_US 10000
#define RETIRE_TICKS 100 /* a second */

struct sl_intake_tcp_listen {
    struct evconnlistener *lev; /* owned; NULL once closed */
    struct event *retire;       /* polls the backlog while retiring */
    int ticks;
    int retiring;
};

static void on_retire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_intake_tcp_listen *l = arg;
    struct pollfd p = {.fd = evconnlistener_get_fd(l->lev), .events = POLLIN};
    if (poll(&p, 1, 0) > 0 && ++l->ticks < RETIRE_TICKS) {
        struct timeval tick = {0, RETIRE_TICK_US};
        evtimer_add(l->retire, &tick);
        return;
    }
    sl_intake_tcp_listen_close(l);
}

sl_intake_tcp_listen *sl_intake_tcp_listen_bind(struct event_base *base,
                                                const char *listen,
                                                const char *host, int port,
                                                char *err, size_t errlen)
{
    sl_intake_tcp_listen *l = calloc(1, sizeof *l);
    if (!l || !(l->retire = evtimer_new(base, on_retire, l))) {
        snprintf(err, errlen, "out of memory");
        sl_intake_tcp_listen_free(l);
        return NULL;
    }
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
                             .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "tcp %s: %s", listen, gai_strerror(rc));
        sl_intake_tcp_listen_free(l);
        return NULL;
    }
    l->lev = evconnlistener_new_bind(
        base, NULL, NULL,
        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC |
            LEV_OPT_DISABLED, -1, ai->ai_addr, (int)ai->ai_addrlen);
    freeaddrinfo(ai);
    if (!l->lev) {
        snprintf(err, errlen, "cannot listen on %s (tcp): %s", listen,
                 strerror(errno));
        sl_intake_tcp_listen_free(l);
        return NULL;
    }
    return l;
}

void sl_intake_tcp_listen_serve(sl_intake_tcp_listen *l,
                                evconnlistener_cb cb, void *arg)
{
    if (!l->lev)
        return;
    evconnlistener_set_cb(l->lev, cb, arg);
    evconnlistener_enable(l->lev);
}

void sl_intake_tcp_listen_retire(sl_intake_tcp_listen *l)
{
    if (!l->lev || l->retiring)
        return;
    l->retiring = 1;
    l->ticks = 0;
    struct timeval now = {0, 0}; /* after what the loop has ready */
    evtimer_add(l->retire, &now);
}

void sl_intake_tcp_listen_close(sl_intake_tcp_listen *l)
{
    if (l->lev)
        evconnlistener_free(l->lev);
    l->lev = NULL;
    l->retiring = 0;
    evtimer_del(l->retire);
}

int sl_intake_tcp_listen_up(const sl_intake_tcp_listen *l)
{
    return l->lev && !l->retiring;
}

int sl_intake_tcp_listen_open(const sl_intake_tcp_listen *l)
{
    return l->lev != NULL;
}

void sl_intake_tcp_listen_free(sl_intake_tcp_listen *l)
{
    if (!l)
        return;
    if (l->lev)
        evconnlistener_free(l->lev);
    if (l->retire)
        event_free(l->retire);
    free(l);
}
