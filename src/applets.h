/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_APPLETS_H
#define VRELAY_APPLETS_H

/* One entry point per applet; each returns the process's exit status */
struct applet {
	const char *name;
	int (*main)(int argc, char **argv);
};

int relay_main(int argc, char **argv);
int ssh_proxy_main(int argc, char **argv);
void applets_list(void);

#endif
