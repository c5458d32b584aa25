/* sl_preview_cli: `sluice preview CONNECTOR FILE`, the exact requests the
 * first records of a file would make, and the records the intake would
 * refuse, sending nothing and spooling nothing. */
#ifndef SL_PREVIEW_CLI_H
#define SL_PREVIEW_CLI_H

/* The command with argv[0..argc) the words after "preview". Writes the
 * preview to stdout (sl_preview_out) and problems to stderr. Returns the
 * exit status: 0 every record shown was accepted and every request could
 * be made; 1 some were rejected or a request could not be made (headers_fn
 * raised, as with --no-network and a token request); 2 a usage or
 * configuration error, or a file that cannot be read. */
int sl_preview_cli_main(int argc, char **argv);

#endif
