/**
 * jcstress tests of ftrace's direct calls: {@code update_ftrace_direct_add/del/mod} and the free of
 * a replaced hash, each racing calls through the site.
 */
package dev.gtramp.stress.ftrace;
