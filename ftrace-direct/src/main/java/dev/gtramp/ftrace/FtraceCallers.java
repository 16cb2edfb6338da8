package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.FunctionBody;
import dev.gtramp.kernel.rcu.RcuReader;

/**
 * The call path shared by all ops: x86's {@code ftrace_caller} / {@code ftrace_regs_caller}
 * ({@code arch/x86/kernel/ftrace_64.S}), the patched {@code ftrace_call} site they call, and what
 * it calls: {@code ftrace_ops_list_func}, one ops' callback, or {@code ftrace_stub}. A direct ops'
 * callback is {@code call_direct_funcs}. Also the trace-function updates of
 * {@code kernel/trace/ftrace.c}: {@code update_ftrace_function} picks the function,
 * {@code ftrace_modify_all_code} installs it ({@code update_ftrace_func}, x86
 * {@code ftrace_update_ftrace_func}).
 *
 * <p>Invariant: a CPU in {@code ftrace_call} calls a function with the op it expects. While the
 * function is changed to a single ops' callback, {@code ftrace_call} goes through the list function
 * first, and {@code function_trace_op} is published and synchronised on every CPU before the
 * callback is installed. The call path takes no lock and allocates nothing.
 */
final class FtraceCallers {
    private final FtraceContext ctx;
    /** The {@code ftrace_regs} of each CPU's nesting level: the stack frame the caller builds. */
    private final FtraceRegs[] regs;
    final CallTarget ftraceCaller;
    final CallTarget ftraceRegsCaller;
    final FtraceFunc listFunc;
    final FtraceFunc stubFunc;
    final FtraceFunc callDirectFuncs;
    /** What the {@code ftrace_call}/{@code ftrace_regs_call} sites call now, and the op they pass. */
    private volatile FtraceFunc ftraceCall;
    private volatile FtraceOps functionTraceOp;
    // Under ftrace_lock:
    private FtraceFunc ftraceTraceFunction;
    private FtraceOps setFunctionTraceOp;
    private FtraceFunc savedFtraceFunc;
    private FtraceFunc updateFuncSaved;

    FtraceCallers(FtraceContext ctx) {
        this.ctx = ctx;
        this.stubFunc = (ip, parentIp, op, r) -> { };
        this.listFunc = this::listFunc;
        this.callDirectFuncs = this::callDirectFuncs;
        this.ftraceCall = stubFunc;
        this.ftraceTraceFunction = stubFunc;
        this.savedFtraceFunc = stubFunc;
        this.updateFuncSaved = stubFunc;
        this.regs = new FtraceRegs[ctx.kernel.cpuCount() * Cpu.MAX_CALL_DEPTH];
        for (int i = 0; i < regs.length; i++) {
            regs[i] = new FtraceRegs();
        }
        this.ftraceCaller = new Caller(false);
        this.ftraceRegsCaller = new Caller(true);
    }

    /** {@code ftrace_caller} / {@code ftrace_regs_caller}: the trampoline shared by all ops. */
    private final class Caller implements CallTarget {
        private final boolean withRegs;

        Caller(boolean withRegs) {
            this.withRegs = withRegs;
        }

        @Override
        public long enter(Frame frame) {
            Cpu cpu = frame.cpu();
            FtraceRegs r = regs[cpu.id() * Cpu.MAX_CALL_DEPTH + cpu.depth() - 1];
            r.reset(frame, withRegs);
            CallTarget direct;
            FunctionBody modified;
            try {
                // ftrace_call: a patched call instruction, read once like the CPU fetches it.
                ftraceCall.call(frame.ip(), 0, functionTraceOp, r);
                // Only ftrace_regs_caller tests orig_ax (the ftrace_regs_caller_jmp branch).
                direct = withRegs ? r.directCaller() : null;
                modified = r.ipModified();
            } finally {
                r.clear();
            }
            if (direct != null) {
                return direct.enter(frame);
            }
            return modified != null ? modified.run(frame) : frame.callOrigin();
        }

        @Override
        public String toString() {
            return withRegs ? "ftrace_regs_caller" : "ftrace_caller";
        }
    }

    /**
     * {@code ftrace_ops_list_func}: every registered ops that traces {@code ip} gets its callback.
     * The walk is an RCU read-side section (the kernel disables preemption); ops are removed
     * copy-on-write and freed only after the grace periods of {@code ftrace_shutdown}.
     */
    private void listFunc(long ip, long parentIp, FtraceOps ignored, FtraceRegs r) {
        RcuReader rcu = r.frame().cpu().rcu();
        rcu.lock();
        try {
            boolean full = r.hasFullRegs();
            for (FtraceOps op : ctx.opsList) {
                int fl = op.flags;
                if ((fl & FtraceOps.STUB) != 0) {
                    continue;
                }
                if (opsTest(op, fl, ip, full)) {
                    FtraceFunc fn = op.func;
                    if (fn != null) {
                        fn.call(ip, parentIp, op, r);
                    }
                }
            }
        } finally {
            rcu.unlock();
        }
    }

    /** {@code call_direct_funcs}: the callback of every direct ops (single-ops build: per-ip lookup). */
    private void callDirectFuncs(long ip, long parentIp, FtraceOps op, FtraceRegs r) {
        CallTarget addr = ctx.findRecDirect(ip);
        if (addr != null) {
            r.setDirectCaller(addr);
        }
    }

    /** {@code ftrace_ops_test}: whether {@code op} traces {@code ip} on a caller with or without full regs. */
    private static boolean opsTest(FtraceOps op, int flags, long ip, boolean fullRegs) {
        if (!fullRegs && (flags & FtraceOps.SAVE_REGS) != 0) {
            return false;
        }
        return op.funcHash.containsIp(ip);
    }

    // ---------------------------------------------------------------------------------------
    // The trace function, under ftrace_lock

    /** {@code update_ftrace_function}: what {@code ftrace_call} should call for the current ops list. */
    void updateFtraceFunction() {
        FtraceOps[] list = ctx.opsList;
        if (list.length == 0) {
            setFunctionTraceOp = null;
            ftraceTraceFunction = stubFunc;
        } else if (list.length == 1) {
            FtraceOps op = list[0];
            setFunctionTraceOp = op;
            ftraceTraceFunction = op.has(FtraceOps.DYNAMIC) || op.has(FtraceOps.RCU) ? listFunc : op.func;
        } else {
            setFunctionTraceOp = null;
            ftraceTraceFunction = listFunc;
        }
    }

    /**
     * The {@code saved_ftrace_func != ftrace_trace_function} test of {@code ftrace_startup} and
     * {@code ftrace_shutdown}: true, and the new function saved, if {@code ftrace_call} must change
     * ({@code FTRACE_UPDATE_TRACE_FUNC}).
     */
    boolean takeTraceFuncChange() {
        if (savedFtraceFunc == ftraceTraceFunction) {
            return false;
        }
        savedFtraceFunc = ftraceTraceFunction;
        return true;
    }

    /** Registers the restore of the trace-function state (not of what the sites call) in {@code log}. */
    void saveTo(UndoLog log) {
        FtraceFunc traceFn = ftraceTraceFunction;
        FtraceOps traceOp = setFunctionTraceOp;
        FtraceFunc savedTrace = savedFtraceFunc;
        log.onUndo(() -> {
            ftraceTraceFunction = traceFn;
            setFunctionTraceOp = traceOp;
            savedFtraceFunc = savedTrace;
        });
    }

    /**
     * The first step of {@code ftrace_modify_all_code} with {@code FTRACE_UPDATE_TRACE_FUNC}:
     * {@code ftrace_call} goes through the list function while the sites are patched. Caller holds
     * {@code text_mutex}.
     */
    void beginTraceFuncUpdate() {
        updateFtraceFunc(listFunc);
    }

    /**
     * The last step of {@code ftrace_modify_all_code}: publishes {@code function_trace_op}, makes
     * every CPU see it ({@code ftrace_sync_ipi}), then installs the new function. Caller holds
     * {@code text_mutex}.
     */
    void finishTraceFuncUpdate() {
        if (ftraceTraceFunction != listFunc) {
            functionTraceOp = setFunctionTraceOp;
            // smp_call_function(ftrace_sync_ipi): every CPU sees function_trace_op first.
            ctx.kernel.syncCores();
            ctx.count(Cost.SYNC_IPIS);
            updateFtraceFunc(ftraceTraceFunction);
        }
    }

    /** {@code update_ftrace_func}: re-points {@code ftrace_call} and {@code ftrace_regs_call}. */
    private void updateFtraceFunc(FtraceFunc func) {
        if (func == updateFuncSaved) {
            return;
        }
        updateFuncSaved = func;
        ftraceCall = func;
        ctx.count(Cost.TRACE_FUNC_UPDATES);
        ctx.poker.singleBatchSyncs();
        ctx.poker.singleBatchSyncs();
    }
}
