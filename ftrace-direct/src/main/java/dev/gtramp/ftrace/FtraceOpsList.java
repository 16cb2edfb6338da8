package dev.gtramp.ftrace;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

/**
 * {@code ftrace_ops_list} and the two functions that put an ops on it and take it off:
 * {@code ftrace_startup} ({@code __register_ftrace_function}, the trace function update, the
 * records' counts, the code update) and {@code ftrace_shutdown}, which for a {@code DYNAMIC} ops
 * then waits for tasks-rude and tasks RCU grace periods, since a CPU may still be in its callback.
 * Each runs as one update with an {@link UndoLog}: a failure leaves the list, the ops' flags and
 * function, the records and the sites as they were. The caller holds {@code ftrace_lock}.
 *
 * <p>The list itself is {@link FtraceContext#opsList}, an array replaced whole (copy on write), so
 * that {@code ftrace_ops_list_func} walks a snapshot without a lock.
 */
final class FtraceOpsList {
    private final FtraceContext ctx;
    private final FtraceCallers callers;
    private final FtraceRecords records;
    private final FtracePatcher patcher;
    /** {@code ftrace_start_up}; under {@code ftrace_lock}. */
    private int ftraceStartUp;

    FtraceOpsList(FtraceContext ctx, FtraceCallers callers, FtraceRecords records, FtracePatcher patcher) {
        this.ctx = ctx;
        this.callers = callers;
        this.records = records;
        this.patcher = patcher;
    }

    /** {@code add_ftrace_ops}: {@code ops} at the head of the list. */
    private void addOps(FtraceOps ops, UndoLog log) {
        FtraceOps[] old = ctx.opsList;
        FtraceOps[] list = new FtraceOps[old.length + 1];
        list[0] = ops;
        System.arraycopy(old, 0, list, 1, old.length);
        ctx.opsList = list;
        log.onUndo(() -> ctx.opsList = old);
    }

    /** {@code remove_ftrace_ops}: false if {@code ops} is not on the list. */
    private boolean removeOps(FtraceOps ops, UndoLog log) {
        FtraceOps[] old = ctx.opsList;
        int at = -1;
        for (int i = 0; i < old.length; i++) {
            if (old[i] == ops) {
                at = i;
                break;
            }
        }
        if (at < 0) {
            return false;
        }
        FtraceOps[] list = new FtraceOps[old.length - 1];
        System.arraycopy(old, 0, list, 0, at);
        System.arraycopy(old, at + 1, list, at, list.length - at);
        ctx.opsList = list;
        log.onUndo(() -> ctx.opsList = old);
        return true;
    }

    private void saveFlagsAndFunc(FtraceOps ops, UndoLog log) {
        int flags = ops.flags;
        FtraceFunc func = ops.func;
        FtraceFunc saved = ops.savedFunc;
        int startUp = ftraceStartUp;
        log.onUndo(() -> {
            ops.flags = flags;
            ops.func = func;
            ops.savedFunc = saved;
            ftraceStartUp = startUp;
        });
        callers.saveTo(log);
    }

    /** {@code ftrace_startup}. Caller holds {@code ftrace_lock}. */
    void startup(FtraceOps ops) {
        if (ops.has(FtraceOps.DELETED)) {
            throw new KernelException(Errno.EINVAL, ops + " is deleted");
        }
        if (ops.has(FtraceOps.ENABLED)) {
            throw new KernelException(Errno.EBUSY, ops + " is already registered");
        }
        UndoLog log = new UndoLog();
        saveFlagsAndFunc(ops, log);
        try {
            if (!ops.isCoreKernelData()) {
                ops.set(FtraceOps.DYNAMIC);
            }
            addOps(ops, log);
            ops.savedFunc = ops.func;
            callers.updateFtraceFunction();
            ftraceStartUp++;
            ops.set(FtraceOps.ENABLED | FtraceOps.ADDING);
            FtraceHash filter = ops.funcHash.filter;
            records.hashUpdateIpmodify(ops, ctx.emptyHash, FtraceHash.empty(filter) ? null : filter, false, log);
            int command = records.hashRecUpdate(ops, true, log) ? FtracePatcher.FTRACE_UPDATE_CALLS : 0;
            if (callers.takeTraceFuncChange()) {
                command |= FtracePatcher.FTRACE_UPDATE_TRACE_FUNC;
            }
            if (command != 0) {
                patcher.runUpdateCode(command, log);
            }
            ops.clear(FtraceOps.ADDING);
            ctx.count(Cost.OPS_REGISTERED);
        } catch (RuntimeException e) {
            log.rollback();
            throw e;
        }
    }

    /** {@code ftrace_shutdown}. Caller holds {@code ftrace_lock}. */
    void shutdown(FtraceOps ops, boolean injectFaults) {
        if (!ops.has(FtraceOps.ENABLED)) {
            throw new KernelException(Errno.EBUSY, ops + " is not registered");
        }
        UndoLog log = new UndoLog();
        saveFlagsAndFunc(ops, log);
        try {
            if (!removeOps(ops, log)) {
                throw new KernelException(Errno.EINVAL, ops + " is not on ftrace_ops_list");
            }
            callers.updateFtraceFunction();
            ops.func = ops.savedFunc;
            ftraceStartUp--;
            FtraceHash filter = ops.funcHash.filter;
            if (!FtraceHash.empty(filter)) {
                // ftrace_hash_ipmodify_disable; its result is ignored, and it cannot fail here.
                records.hashUpdateIpmodify(ops, filter, ctx.emptyHash, false, log);
            }
            int command = records.hashRecUpdate(ops, false, log) ? FtracePatcher.FTRACE_UPDATE_CALLS : 0;
            ops.clear(FtraceOps.ENABLED);
            if (callers.takeTraceFuncChange()) {
                command |= FtracePatcher.FTRACE_UPDATE_TRACE_FUNC;
            }
            if (command != 0) {
                ops.set(FtraceOps.REMOVING);
                try {
                    patcher.runUpdateCode(command, log, injectFaults);
                } finally {
                    ops.clear(FtraceOps.REMOVING);
                }
            }
        } catch (RuntimeException e) {
            log.rollback();
            throw e;
        }
        ctx.count(Cost.OPS_UNREGISTERED);
        if (ops.has(FtraceOps.DYNAMIC)) {
            // Callers may still be in the list function under preempt_disable (rude), or
            // preempted on a trampoline (tasks), holding this ops.
            synchronize(Cost.GRACE_PERIODS_TASKS_RUDE);
            synchronize(Cost.GRACE_PERIODS_TASKS);
        }
    }

    private void synchronize(Cost flavor) {
        switch (flavor) {
            case GRACE_PERIODS_RCU -> ctx.kernel.rcu().synchronize();
            // Tasks-rude RCU waits for every CPU to schedule; the model's tasks RCU waits for every
            // CPU to leave its outermost call, which implies it.
            case GRACE_PERIODS_TASKS, GRACE_PERIODS_TASKS_RUDE -> ctx.kernel.tasksRcu().synchronize();
            default -> throw new IllegalArgumentException(flavor.toString());
        }
        ctx.count(flavor);
    }
}
