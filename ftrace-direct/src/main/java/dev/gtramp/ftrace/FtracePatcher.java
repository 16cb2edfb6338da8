package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.fault.FaultPoint;
import dev.gtramp.kernel.text.TextPoker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The code update of {@code kernel/trace/ftrace.c}: {@code ftrace_run_update_code} ->
 * {@code ftrace_modify_all_code} -> x86 {@code ftrace_replace_code}, which patches every record
 * {@code ftrace_check_record} finds out of date in {@link TextPoker} batches, and re-points
 * {@code ftrace_call} around them when the trace function changes.
 *
 * <p>Invariant: nothing is written unless every site to patch holds what its record says it holds
 * ({@code ftrace_verify_code}, fault point {@code ftrace:verify_code}); on a mismatch the update
 * throws EFAULT before its first write and the caller rolls its {@link UndoLog} back. A site's
 * record gets its new {@code _EN} flags in the same step that queues its new instruction.
 */
final class FtracePatcher {
    static final int FTRACE_UPDATE_CALLS = 1;
    static final int FTRACE_UPDATE_TRACE_FUNC = 1 << 2;

    private final FtraceContext ctx;
    private final FtraceRecords records;
    private final FtraceCallers callers;
    private final FaultPoint verifyPoint;

    FtracePatcher(FtraceContext ctx, FtraceRecords records, FtraceCallers callers) {
        this.ctx = ctx;
        this.records = records;
        this.callers = callers;
        this.verifyPoint = ctx.kernel.faults().point("ftrace:verify_code");
    }

    private record Patch(DynFtrace rec, CallTarget target) {
    }

    /** The read-only first pass of x86 {@code ftrace_replace_code}: plan and verify every site. */
    private List<Patch> planReplace(UndoLog log, boolean injectFaults) {
        List<Patch> plan = new ArrayList<>();
        for (int i = log.dirty.nextSetBit(0); i >= 0; i = log.dirty.nextSetBit(i + 1)) {
            DynFtrace rec = records.at(i);
            int action = FtraceRecords.checkRecord(rec, false);
            if (action == FtraceRecords.UPDATE_IGNORE) {
                continue;
            }
            CallTarget expected = action == FtraceRecords.UPDATE_MAKE_CALL ? null : records.addrCurr(rec);
            CallTarget found = rec.site().read();
            if ((injectFaults && verifyPoint.shouldFail()) || found != expected) {
                String msg = String.format("ftrace failed to modify %s: expected %s, found %s",
                        records.fn(rec.ip()), expected == null ? "nop" : "call " + expected, found == null ? "nop" : "call " + found);
                ctx.kernel.log().error("ftrace", "ftrace_bug: " + msg);
                throw new KernelException(Errno.EFAULT, msg);
            }
            plan.add(new Patch(rec, action == FtraceRecords.UPDATE_MAKE_NOP ? null : records.addrNew(rec)));
        }
        return plan;
    }

    /** {@code ftrace_run_update_code}. Caller holds {@code ftrace_lock}. */
    void runUpdateCode(int command, UndoLog log) {
        runUpdateCode(command, log, true);
    }

    /**
     * {@code ftrace_run_update_code}; {@code injectFaults} false for an update the kernel cannot see
     * fail (undoing the modify trick's stub ops). Caller holds {@code ftrace_lock}.
     */
    void runUpdateCode(int command, UndoLog log, boolean injectFaults) {
        TextPoker poker = ctx.poker;
        ReentrantLock textMutex = poker.textMutex();
        textMutex.lock();
        try {
            List<Patch> plan = (command & FTRACE_UPDATE_CALLS) != 0 ? planReplace(log, injectFaults) : List.of();
            boolean update = (command & FTRACE_UPDATE_TRACE_FUNC) != 0;
            if (update) {
                callers.beginTraceFuncUpdate();
            }
            for (Patch p : plan) {
                poker.queue(p.rec().site(), p.target());
                FtraceRecords.checkRecord(p.rec(), true);
            }
            poker.finish();
            if (update) {
                callers.finishTraceFuncUpdate();
            }
        } finally {
            textMutex.unlock();
        }
    }
}
