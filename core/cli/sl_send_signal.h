/* sl_send_signal: SIGINT and SIGTERM for `sluice send`, counted rather
 * than acted on: the first stops reading, the second stops at once, and
 * the sender looks at the count where it can act. Installed without
 * SA_RESTART, so that a blocking read of the input returns. */
#ifndef SL_SEND_SIGNAL_H
#define SL_SEND_SIGNAL_H

/* Count SIGINT and SIGTERM from now on (the count starts at 0). 0, or -1
 * when the handlers cannot be installed. */
int sl_send_signal_install(void);

/* Put the earlier handlers back; the count is kept until the next
 * install. */
void sl_send_signal_restore(void);

/* Signals received since the install. */
int sl_send_signal_count(void);

#endif
