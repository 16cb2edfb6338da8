package dev.gtramp.trampoline;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.btf.FunctionPrototype;

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
        if (prog.kind() == BpfTrampKind.MODIFY_RETURN && !t.modifyReturnTargets().allows(f)) {
            return "fmod_ret needs an error-injection point, an fmodret BTF id or a security hook";
        }
        return null;
    }
}
