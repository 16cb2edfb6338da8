package dev.gtramp.kernel.image;

import dev.gtramp.kernel.btf.FunctionPrototype;

import java.util.Objects;

/**
 * A function of a {@link KernelImage}: a BTF {@code FUNC} with its prototype and, when kallsyms has
 * it, its address and the padding before it.
 *
 * @param index           position in {@link KernelImage#functions()} (BTF id order for real images)
 * @param prototype       the BTF prototype, which also carries the name
 * @param ip              the entry address as {@code kallsyms_lookup_name} returns it (the first text
 *                        symbol of that name), or 0 when kallsyms has none
 * @param paddingBytes    bytes of padding before {@code ip} that a {@code __pfx_} label marks (16 with
 *                        {@code CONFIG_FUNCTION_PADDING_BYTES=16}), or 0
 * @param addressCount    how many text symbols carry this name (more than one for static functions of
 *                        the same name in different files; the first is used, as the kernel does)
 * @param decision        whether the function is traceable, and why
 */
public record ImageFunction(int index, FunctionPrototype prototype, long ip, int paddingBytes,
                            int addressCount, TraceDecision decision) {
    public ImageFunction {
        Objects.requireNonNull(prototype, "prototype");
        Objects.requireNonNull(decision, "decision");
        if (decision != TraceDecision.NOT_IN_KALLSYMS && ip == 0) {
            throw new IllegalArgumentException(prototype.name() + ": decision " + decision + " needs an address");
        }
    }

    public String name() {
        return prototype.name();
    }

    /** Whether the function has an address, so the model can call it. */
    public boolean hasAddress() {
        return ip != 0;
    }

    public boolean isTraceable() {
        return decision.isTraceable();
    }

    /** Whether kallsyms has more than one text symbol with this name. */
    public boolean isAmbiguous() {
        return addressCount > 1;
    }

    @Override
    public String toString() {
        return String.format("%#x %s [%s]", ip, prototype.declaration(), decision);
    }
}
