package dev.gtramp.trampoline;

/**
 * A function of a tracing multi link that {@code bpf_global_caller} cannot serve, served instead by
 * its per-function trampoline carrying the program as a shim link.
 *
 * @param function the function
 * @param reason   why the global caller cannot serve it
 */
public record MultiLinkFallback(String function, String reason) {
}
