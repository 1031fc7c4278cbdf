/* semihost.h: output and exit through the debugger (QEMU -semihosting). */
#ifndef SEMIHOST_H
#define SEMIHOST_H

void sh_puts(const char *s);
void sh_exit(int status) __attribute__((noreturn));

#endif
