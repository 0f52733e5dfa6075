// SPDX-License-Identifier: GPL-2.0
/*
 * exec_nop: what storm's exec storm runs. No C library at all (static glibc
 * spends tens of µs per exec on its own start-up: relocations, TLS, stdio)
 * and one page of code, so an exec costs the kernel's work (and the
 * tracers') and the storm is fast enough for perimd's per-event figure.
 */
#include <sys/syscall.h>

void _start(void) __attribute__((noreturn));

void _start(void)
{
#if defined(__x86_64__)
	__asm__ volatile("syscall" : : "a"(SYS_exit_group), "D"(0) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long nr __asm__("x8") = SYS_exit_group;
	register long code __asm__("x0") = 0;

	__asm__ volatile("svc 0" : : "r"(nr), "r"(code) : "memory");
#else
#error "exec_nop: no exit_group system call written for this architecture"
#endif
	__builtin_unreachable();
}
