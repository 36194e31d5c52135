/* SPDX-License-Identifier: MIT */
#ifndef VRELAY_LOG_H
#define VRELAY_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/* Levels follow socat 1.8: errors and warnings always; -d notices (listening
 * on, accepted, connecting to, connected), -d -d info (every step of opening
 * an address), -d -d -d debug; -d0 errors only. */
enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_NOTICE, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(int ndebug);
int log_get_level(void);
int log_to_file(const char *path);
int log_to_syslog(const char *facility);
bool log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Write a whole block to the log stream without a prefix (traffic dumps). */
void log_raw(const void *buf, size_t len);

#endif
