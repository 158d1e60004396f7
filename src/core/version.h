/*
 * version.h - the release string of this build ("0.1.0-g<commit>"), from
 * one object file that the Makefile rebuilds whenever the string changes,
 * so that every part of a binary reports the same version.
 */
#ifndef TW_CORE_VERSION_H
#define TW_CORE_VERSION_H

const char *tw_version(void);

#endif
