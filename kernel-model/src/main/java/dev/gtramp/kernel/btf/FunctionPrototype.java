package dev.gtramp.kernel.btf;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A kernel function's prototype as BTF describes it: a {@code FUNC} and its {@code FUNC_PROTO},
 * with every type resolved, plus what the x86-64 BPF trampoline makes of it.
 *
 * <p>{@link #argRegs()} is the number of argument registers the trampoline saves for the function,
 * counted as {@code arch_prepare_bpf_trampoline} does: one per argument of at most 8 bytes, and
 * {@code (size + 7) / 8} for a struct passed by value (at most 16 bytes, so 2). It is the
 * {@code nr_args} of a {@code kfunc_md} and what {@code bpf_get_func_arg_cnt} returns.
 * {@link #unsupportedReason()} is {@code null} when the BPF trampoline can serve the function and
 * otherwise says why not, in the words of the kernel's check that rejects it.
 *
 * @param name              the function name
 * @param linkage           the BTF linkage
 * @param returnType        the return type as C spells it ({@code "void"} for none)
 * @param returnSize        the size of the resolved return type in bytes (0 for {@code void})
 * @param returnClass       the classification of the return type
 * @param params            the parameters in order; a trailing {@code ...} is one {@link ArgClass#VARARGS} entry
 * @param argRegs           argument registers under the trampoline's x86-64 rules
 * @param unsupportedReason why the BPF trampoline rejects the function, or {@code null}
 */
public record FunctionPrototype(String name, Linkage linkage, String returnType, int returnSize,
                                ArgClass returnClass, List<Param> params, int argRegs,
                                String unsupportedReason) {

    /** {@code MAX_BPF_FUNC_ARGS}: the most argument registers a BPF trampoline saves. */
    public static final int MAX_BPF_FUNC_ARGS = 12;
    /** {@code MAX_BPF_FUNC_REG_ARGS}: arguments passed in registers on x86-64 (rdi, rsi, rdx, rcx, r8, r9). */
    public static final int MAX_BPF_FUNC_REG_ARGS = 6;

    public FunctionPrototype {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(linkage, "linkage");
        Objects.requireNonNull(returnType, "returnType");
        Objects.requireNonNull(returnClass, "returnClass");
        params = List.copyOf(params);
        if (argRegs < 0) {
            throw new IllegalArgumentException(name + ": negative argRegs " + argRegs);
        }
    }

    /** The {@code FUNC_PROTO} vlen: the number of parameters, a trailing {@code ...} counting as one. */
    public int paramCount() {
        return params.size();
    }

    /** Whether the prototype ends in {@code ...}. */
    public boolean isVariadic() {
        return !params.isEmpty() && params.get(params.size() - 1).argClass() == ArgClass.VARARGS;
    }

    /** Whether the BPF trampoline can attach to this function. */
    public boolean isBpfSupported() {
        return unsupportedReason == null;
    }

    /** Whether some arguments are passed on the stack (more than 6 argument registers). */
    public boolean hasStackArgs() {
        return argRegs > MAX_BPF_FUNC_REG_ARGS;
    }

    /**
     * The number of 64-bit argument words a caller passes in the model's calling convention: one per
     * argument of at most 8 bytes, {@code ceil(size / 8)} for a larger one, none for {@code ...}.
     * For a function the trampoline supports this equals {@link #argRegs()}.
     */
    public int argSlots() {
        int slots = 0;
        for (Param p : params) {
            if (p.argClass() != ArgClass.VARARGS) {
                slots += Math.max(1, (p.size() + 7) / 8);
            }
        }
        return slots;
    }

    /** The prototype as a C declaration, e.g. {@code "int bpf_fentry_test2(int a, u64 b)"}. */
    public String declaration() {
        String args = params.isEmpty() ? "void"
                : params.stream().map(Param::declaration).collect(Collectors.joining(", "));
        String sep = returnType.endsWith("*") ? "" : " ";
        return returnType + sep + name + "(" + args + ")";
    }

    @Override
    public String toString() {
        return declaration();
    }
}
