package dev.gtramp.trampoline;

/**
 * A target of a tracing multi link left out because the attach checks refuse it, when the link was
 * made with {@link TracingMultiOpts#skipInvalid(boolean)}.
 *
 * @param function the function
 * @param reason   the attach check's refusal, as the error would have said it
 */
public record MultiLinkSkip(String function, String reason) {
}
