/**
 * jcstress tests of the kernel's own lifecycle: {@code Kernel.close} against RCU callbacks that cross
 * domains.
 */
package dev.gtramp.stress.kernel;
