/*
 * version.c - tw_version(): the string the Makefile passes as TW_VERSION
 * (only to this file).
 */
#include "core/version.h"

#ifndef TW_VERSION
#define TW_VERSION "0.1.0"
#endif

const char *tw_version(void)
{
	return TW_VERSION;
}
