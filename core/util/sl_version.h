/* sl_version: the version sluice reports (`sluice version`, the
 * sluice_build_info metric). */
#ifndef SL_VERSION_H
#define SL_VERSION_H

#define SL_VERSION "0.1.0"

#endif
