// SPDX-License-Identifier: GPL-2.0
/*
 * exec_nop: what storm's exec storm runs. Linked statically, so an exec
 * costs the kernel's work (and the tracers') rather than the dynamic loader's.
 */
int main(void)
{
	return 0;
}
