package dev.gtramp.trampoline;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.bpf.BpfTraceCtx;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.rcu.RcuReader;

/**
 * {@code bpf_global_caller}: the one trampoline of every function a tracing multi link serves
 * through the global ops, the direct call target of all of their entry sites.
 *
 * <p>{@code bpf_global_caller_run}, step by step ({@link #enter}):
 * <ol>
 * <li>find the function's {@link KfuncMd} ({@code kfunc_md_get_rcu}) in a read-side section; none
 *     (the md is leaving while the site still calls here) resumes the function;</li>
 * <li>store {@code nr_args} and the ip for {@code bpf_get_func_arg_cnt} and {@code bpf_get_func_ip};</li>
 * <li>if {@code md->bpf_origin_call}: {@code kfunc_md_enter}, the {@code percpu_ref_get} that keeps
 *     the md alive while the origin function runs (and may sleep);</li>
 * <li>the fentry programs, each with its cookie; without an origin call, resume the function;</li>
 * <li>the fmod_ret programs from a zero return slot; a non-zero result skips the rest and the
 *     origin call;</li>
 * <li>the origin call, its return value into the slot;</li>
 * <li>the fexit programs, which see the slot;</li>
 * <li>{@code kfunc_md_exit} ({@code percpu_ref_put}) and return the slot to the function's caller.</li>
 * </ol>
 * What keeps the md alive at each step is the kernel's {@link KfuncMdFreeProtocol}: with
 * {@code RCU_THEN_KILL} the read-side section lasts from the lookup to the origin call and the
 * fexit list is walked in a second one; with {@code KILL_THEN_TASKS_RCU} it covers only the lookup
 * and the ref, and tasks RCU covers the rest; the model marks the preemption point between the two
 * ({@code Cpu.interruptWindow}), so that a test can hold the call there while a writer frees.
 *
 * <p>No lock, no allocation, no wait for a writer: a lookup, list walks and per-CPU counters. That
 * holds for the last {@code kfunc_md_exit} of an md being freed too: its release runs here but only
 * queues the md's embedded callback; the free runs on the RCU callback thread ({@link KfuncMds}).
 * The programs the walks run are live as long as their nodes ({@link KfuncMdProg}).
 */
final class GlobalCaller implements CallTarget {
    private final KfuncMdIndex index;
    private final boolean rcuAcrossPrograms;

    GlobalCaller(KfuncMdIndex index, KfuncMdFreeProtocol protocol) {
        this.index = index;
        this.rcuAcrossPrograms = protocol == KfuncMdFreeProtocol.RCU_THEN_KILL;
    }

    @Override
    public long enter(Frame frame) {
        Cpu cpu = frame.cpu();
        RcuReader rcu = cpu.rcu();
        rcu.lock();
        KfuncMd md;
        boolean origin;
        try {
            md = index.find(frame);
            if (md == null) {
                origin = false;
            } else {
                md.access();
                frame.bpfCtx().begin(md.nrArgs);
                // Read once: the path taken must match the ref taken.
                origin = md.originCall();
                if (origin) {
                    md.pcref.get(cpu);
                }
            }
        } catch (Throwable report) {
            // A KASAN report from the lookup or the md: leave the section before it propagates, or
            // the next grace period waits for this CPU forever.
            rcu.unlock();
            throw report;
        }
        if (md == null) {
            rcu.unlock();
            return frame.callOrigin();
        }
        if (!rcuAcrossPrograms) {
            rcu.unlock();
            // Preemptible from here on (CONFIG_PREEMPT_RCU: outside rcu_read_lock the task is no
            // RCU reader), but still inside the traced call, a tasks-RCU reader: an interrupt whose
            // return preempts the task may come before the walks.
            cpu.interruptWindow();
        }
        if (origin) {
            return aroundOrigin(frame, cpu, rcu, md);
        }
        try {
            md.runAll(BpfTrampKind.FENTRY, frame.bpfCtx());
        } finally {
            if (rcuAcrossPrograms) {
                rcu.unlock();
            }
        }
        return frame.callOrigin();
    }

    /**
     * The origin path, entered holding the md's ref (and, with {@code RCU_THEN_KILL}, the read-side
     * section): fentry and fmod_ret programs, the origin call, fexit programs, the ref dropped. A
     * method of its own so that {@link #enter} stays small enough to be inlined into the call path.
     */
    private long aroundOrigin(Frame frame, Cpu cpu, RcuReader rcu, KfuncMd md) {
        BpfTraceCtx ctx = frame.bpfCtx();
        try {
            boolean skipOrigin;
            try {
                md.runAll(BpfTrampKind.FENTRY, ctx);
                skipOrigin = md.runModifyReturn(ctx);
            } finally {
                if (rcuAcrossPrograms) {
                    rcu.unlock();
                }
            }
            if (!skipOrigin) {
                ctx.setReturnValue(frame.callOrigin());
            }
            // Back from the origin the md is held by the ref alone; the fexit walk guards it first,
            // so a freed one is reported there.
            if (rcuAcrossPrograms) {
                rcu.lock();
            }
            try {
                md.runAll(BpfTrampKind.FEXIT, ctx);
            } finally {
                if (rcuAcrossPrograms) {
                    rcu.unlock();
                }
            }
            return ctx.returnValue();
        } finally {
            // A freed md's ref went with it: the use after free is already reported.
            if (md.isLive()) {
                md.pcref.put(cpu);
            }
        }
    }

    @Override
    public String toString() {
        return "bpf_global_caller";
    }
}
