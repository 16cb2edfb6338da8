/**
 * jcstress tests of per-function trampolines: attach racing calls and {@code bpf_tramp_image_put}
 * against a call inside the origin function.
 */
package dev.gtramp.stress.trampoline;
