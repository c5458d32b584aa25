/* sl_send_signal: the one piece of process-wide state of `sluice send`,
 * a counter only a signal handler may change (reset by each install),
 * counted on the thread that installed the handlers. */
#include "sl_send_signal.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t count;
static struct sigaction old_int, old_term;
static pthread_t main_thread;

/* Any thread may get the signal (the spool's threads too): it is passed
 * to the main thread, whose blocking read it must interrupt. */
static void on_signal(int sig)
{
    if (!pthread_equal(pthread_self(), main_thread)) {
        pthread_kill(main_thread, sig);
        return;
    }
    if (count < 1000)
        count++;
}

int sl_send_signal_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: read(2) and the loop wake up */
    count = 0;
    main_thread = pthread_self();
    if (sigaction(SIGINT, &sa, &old_int) != 0)
        return -1;
    if (sigaction(SIGTERM, &sa, &old_term) != 0) {
        sigaction(SIGINT, &old_int, NULL);
        return -1;
    }
    return 0;
}

void sl_send_signal_restore(void)
{
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
}

int sl_send_signal_count(void) { return (int)count; }
