package dev.gtramp.kernel.btf;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds a {@link FunctionPrototype} from a {@code FUNC} and decides, as the kernel would, whether a
 * BPF trampoline can attach to it and how many argument registers it saves.
 *
 * <p>The checks run in the kernel's order, so the reason given is the one the verifier log would
 * show first: {@code btf_distill_func_proto()} ({@code kernel/bpf/btf.c}, called from
 * {@code bpf_check_attach_target()} for fentry/fexit/fmod_ret) and then the register limit of
 * {@code __arch_prepare_bpf_trampoline()} ({@code arch/x86/net/bpf_jit_comp.c}). Reasons carry the
 * kernel's log text without its trailing newline.
 *
 * <p>Arguments beyond the six argument registers, struct arguments among them, are accepted: the
 * x86-64 JIT's {@code save_args()} copies them from the caller's stack (a struct goes wholly to the
 * stack when the registers left cannot hold it, as {@code get_nr_used_regs()} counts).
 */
final class FuncProtoDistiller {
    /** {@code MAX_BPF_FUNC_ARGS} ({@code include/linux/bpf.h}). */
    static final int MAX_BPF_FUNC_ARGS = FunctionPrototype.MAX_BPF_FUNC_ARGS;
    /**
     * The largest argument {@code btf_distill_func_proto()} accepts: "No support of struct argument
     * size greater than 16 bytes".
     */
    static final int MAX_ARG_SIZE = 16;

    private FuncProtoDistiller() {
    }

    static FunctionPrototype distill(Btf btf, int funcId) {
        String name = btf.name(funcId);
        Linkage linkage = Linkage.of(btf.field(funcId, 1) & 0xffff);
        int protoId = btf.field(funcId, 2);
        int nargs = btf.field(protoId, 1) & 0xffff;
        int retId = btf.field(protoId, 2);

        List<Param> params = new ArrayList<>(nargs);
        int[] argTypes = new int[nargs];
        for (int i = 0; i < nargs; i++) {
            int nameOff = btf.field(protoId, 3 + 2 * i);
            int type = btf.field(protoId, 4 + 2 * i);
            argTypes[i] = type;
            if (type == 0 && i == nargs - 1) {
                params.add(new Param("", "...", 0, ArgClass.VARARGS));
            } else {
                int resolved = btf.resolve(type);
                params.add(new Param(btf.string(nameOff), btf.typeName(type), clampSize(btf.sizeOf(resolved)),
                        classify(btf, resolved)));
            }
        }
        int retResolved = btf.resolve(retId);
        String reason = unsupportedReason(btf, name, retId, argTypes);
        return new FunctionPrototype(name, linkage, btf.typeName(retId), clampSize(btf.sizeOf(retResolved)),
                classify(btf, retResolved), params, argRegs(params), reason);
    }

    /**
     * Why the trampoline cannot serve the function, or {@code null}: the checks of
     * {@code btf_distill_func_proto()} in order, then {@link #MAX_BPF_FUNC_ARGS} registers as
     * {@code __arch_prepare_bpf_trampoline()} counts them.
     *
     * <ol>
     *   <li>More than {@code MAX_BPF_FUNC_ARGS} params ({@code nargs > MAX_BPF_FUNC_ARGS}):
     *       "The function %s has %d arguments. Too many." A trailing {@code ...} counts.</li>
     *   <li>A return type {@code __get_type_size()} rejects, or any struct/union
     *       ({@code ret < 0 || btf_type_is_struct(t)}): "The function %s return type %s is
     *       unsupported." {@code void} and scalars and pointers are fine.</li>
     *   <li>Per param in order: a last param of type 0 is {@code ...}: "The function %s with variable
     *       args is unsupported."; a size {@code __get_type_size()} rejects or above 16 bytes: "The
     *       function %s arg%d type %s is unsupported." (0-based index, the resolved kind, "UNKNOWN"
     *       for {@code const void}); a size of 0 (an empty struct or union; a {@code void} param
     *       anywhere but last is already refused by the reader): "The function %s has malformed void
     *       argument."</li>
     *   <li>{@code nr_regs > MAX_BPF_FUNC_ARGS} in {@code __arch_prepare_bpf_trampoline()}: the JIT
     *       returns {@code -ENOTSUPP} without a log line; the reason here is worded like rule 1.</li>
     * </ol>
     */
    static String unsupportedReason(Btf btf, String name, int retId, int[] argTypes) {
        int nargs = argTypes.length;
        if (nargs > MAX_BPF_FUNC_ARGS) {
            return String.format("The function %s has %d arguments. Too many.", name, nargs);
        }
        int ret = getTypeSize(btf, retId);
        int retResolved = btf.resolve(retId);
        if (ret < 0 || isStruct(btf, retResolved)) {
            return String.format("The function %s return type %s is unsupported.", name,
                    btf.kind(retResolved).kernelName());
        }
        int nrRegs = nargs;
        for (int i = 0; i < nargs; i++) {
            if (i == nargs - 1 && argTypes[i] == 0) {
                return String.format("The function %s with variable args is unsupported.", name);
            }
            int size = getTypeSize(btf, argTypes[i]);
            int resolved = btf.resolve(argTypes[i]);
            if (size < 0 || size > MAX_ARG_SIZE) {
                return String.format("The function %s arg%d type %s is unsupported.", name, i,
                        btf.kind(resolved).kernelName());
            }
            if (size == 0) {
                return String.format("The function %s has malformed void argument.", name);
            }
            if (isStruct(btf, resolved)) {
                nrRegs += (size + 7) / 8 - 1;
            }
        }
        if (nrRegs > MAX_BPF_FUNC_ARGS) {
            return String.format("The function %s needs %d argument registers. Too many.", name, nrRegs);
        }
        return null;
    }

    /**
     * {@code __get_type_size()} ({@code kernel/bpf/btf.c}): 0 for type id 0 ({@code void}); else,
     * after skipping modifiers, {@code sizeof(void *)} for a pointer, {@code t->size} for an int,
     * enum, enum64, struct or union, and -1 ({@code -EINVAL}) for anything else: float, array,
     * forward declaration, function prototype, and {@code void} reached through a modifier
     * ({@code const void}), which is none of the accepted kinds.
     */
    static int getTypeSize(Btf btf, int typeId) {
        if (typeId == 0) {
            return 0;
        }
        int t = btf.resolve(typeId);
        switch (btf.kind(t)) {
            case PTR:
                return Btf.POINTER_SIZE;
            case INT: case ENUM: case ENUM64: case STRUCT: case UNION: {
                long size = Integer.toUnsignedLong(btf.field(t, 2));
                return size > Integer.MAX_VALUE ? -1 : (int) size;
            }
            default:
                return -1;
        }
    }

    /**
     * {@code btf_type_is_struct()}: a struct or a union. Since the union-argument change the kernel
     * uses it both to reject a returned aggregate and to set {@code BTF_FMODEL_STRUCT_ARG}.
     */
    static boolean isStruct(Btf btf, int resolved) {
        BtfKind k = btf.kind(resolved);
        return k == BtfKind.STRUCT || k == BtfKind.UNION;
    }

    /**
     * The argument registers the trampoline saves: {@code nr_regs} of
     * {@code __arch_prepare_bpf_trampoline()}, which starts from {@code m->nr_args} and adds
     * {@code (arg_size + 7) / 8 - 1} for each argument with {@code BTF_FMODEL_STRUCT_ARG}; so one per
     * scalar, enum or pointer and {@code (size + 7) / 8} per struct or union. For a function the
     * kernel rejects, the same per-argument rule gives a best-effort count: a float or other
     * unsupported non-aggregate counts 1, a large struct {@code (size + 7) / 8}, {@code ...} nothing.
     */
    static int argRegs(List<Param> params) {
        int regs = 0;
        for (Param p : params) {
            switch (p.argClass()) {
                case VARARGS:
                    break;
                case STRUCT: case UNION:
                    regs += (p.size() + 7) / 8;
                    break;
                default:
                    regs += 1;
            }
        }
        return regs;
    }

    /** The {@link ArgClass} of an already resolved type. */
    static ArgClass classify(Btf btf, int resolved) {
        switch (btf.kind(resolved)) {
            case UNKN: return ArgClass.VOID;
            case INT: return ArgClass.INT;
            case ENUM: case ENUM64: return ArgClass.ENUM;
            case PTR: return ArgClass.PTR;
            case STRUCT: return ArgClass.STRUCT;
            case UNION: return ArgClass.UNION;
            case FLOAT: return ArgClass.FLOAT;
            default: return ArgClass.OTHER;
        }
    }

    private static int clampSize(long size) {
        return (int) Math.min(size, Integer.MAX_VALUE);
    }
}
