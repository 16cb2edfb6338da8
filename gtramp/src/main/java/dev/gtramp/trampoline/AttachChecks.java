package dev.gtramp.trampoline;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.btf.ArgClass;
import dev.gtramp.kernel.btf.FunctionPrototype;
import dev.gtramp.kernel.btf.Param;

/**
 * {@code bpf_check_attach_target} (and {@code bpf_check_attach_btf_id_multi} for multi programs):
 * whether a program may attach to a function, each refusal naming the function, the program and the
 * reason.
 */
final class AttachChecks {
    private AttachChecks() {
    }

    static void check(Trampolines t, BpfProg prog, KernelFunction f) {
        String why = refusal(t, prog, f);
        if (why != null) {
            throw new KernelException(Errno.EINVAL, "cannot attach " + prog + " to " + f.name() + ": " + why);
        }
    }

    /**
     * {@code btf_check_func_part_match}: the arguments a typed multi program reads, and the return
     * value if it reads it, must have the same classes and sizes in the target as in the first target.
     */
    static String partMismatch(BpfProg prog, FunctionPrototype first, FunctionPrototype target) {
        int word = 0;
        for (int i = 0; word < prog.ctxArgs(); i++) {
            if (i >= first.params().size() || i >= target.params().size()) {
                return "argument " + i + " is missing";
            }
            Param a = first.params().get(i);
            Param b = target.params().get(i);
            if (a.argClass() != b.argClass() || (a.argClass() != ArgClass.PTR && a.size() != b.size())) {
                return "argument " + i + " is " + b.type() + " (" + b.argClass() + ", " + b.size() + " bytes) but "
                        + a.type() + " (" + a.argClass() + ", " + a.size() + " bytes) in the first target";
            }
            word += Math.max(1, (a.size() + 7) / 8);
        }
        if (prog.readsReturn()) {
            if (first.argRegs() != target.argRegs()) {
                return "the return value is at ctx[" + target.argRegs() + "], not ctx[" + first.argRegs() + "]";
            }
            if (first.returnClass() != target.returnClass()
                    || (first.returnClass() != ArgClass.PTR && first.returnSize() != target.returnSize())) {
                return "it returns " + target.returnType() + ", the first target " + first.returnType();
            }
        }
        return null;
    }

    static String refusal(Trampolines t, BpfProg prog, KernelFunction f) {
        if (prog.kernel() != t.kernel() || f.kernel() != t.kernel()) {
            return "program and function belong to different kernel instances";
        }
        if (!f.isTraceable()) {
            return "no ftrace patch site (" + f.imageFunction().decision().reason() + ")";
        }
        FunctionPrototype p = f.prototype();
        if (!p.isBpfSupported()) {
            return p.unsupportedReason();
        }
        if (p.argRegs() > FunctionPrototype.MAX_BPF_FUNC_ARGS) {
            return "The function " + f.name() + " has " + p.argRegs() + " arguments. Too many.";
        }
        String mismatch = prog.prototypeMismatch(f.name(), p.argRegs(), p.returnSize() == 0);
        if (mismatch != null) {
            return mismatch;
        }
        KernelFunction first = prog.attachBtfFunction();
        if (first != null && first != f) {
            String partMismatch = partMismatch(prog, first.prototype(), p);
            if (partMismatch != null) {
                return partMismatch + " (btf_check_func_part_match against the first target " + first.name() + ")";
            }
        }
        if (prog.kind() == BpfTrampKind.MODIFY_RETURN && !t.modifyReturnTargets().allows(f)) {
            return "fmod_ret needs an error-injection point, an fmodret BTF id or a security hook";
        }
        return null;
    }
}
