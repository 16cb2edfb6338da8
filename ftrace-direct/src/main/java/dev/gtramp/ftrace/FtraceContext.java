package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.mm.Allocator;
import dev.gtramp.kernel.text.TextPoker;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The state every part of one kernel's ftrace shares: the globals of {@code kernel/trace/ftrace.c}
 * that more than one part reads ({@code ftrace_lock}, {@code EMPTY_HASH}, {@code ftrace_ops_list},
 * {@code direct_functions}), the kernel's text patcher and the cost counters.
 *
 * <p>Invariant: each mutable field has one writer. {@link #opsList} is written only by
 * {@link FtraceOpsList} under {@code ftrace_lock}; {@link #directFunctions} only by {@link FtraceDirect}
 * under {@code direct_mutex}. Both are replaced copy-on-write and read lock-free on the call path,
 * so a reader sees a whole old or a whole new value.
 */
final class FtraceContext {
    final Kernel kernel;
    final Allocator allocator;
    final AtomicLongArray costs = new AtomicLongArray(Cost.values().length);
    final TextPoker poker;
    /** {@code ftrace_lock}: ops list, record flags, code patching. */
    final ReentrantLock ftraceLock = new ReentrantLock();
    /** {@code EMPTY_HASH}: live for the kernel's lifetime, never freed. */
    final FtraceHash emptyHash;
    /** {@code ftrace_ops_list}, head first; replaced copy-on-write, read by the list function. */
    volatile FtraceOps[] opsList = new FtraceOps[0];
    /** {@code direct_functions}: replaced copy-on-write, read on the call path. */
    volatile FtraceHash directFunctions;

    FtraceContext(Kernel kernel) {
        this.kernel = kernel;
        this.allocator = kernel.allocator();
        this.poker = TextPoker.of(kernel);
        this.emptyHash = allocator.alloc(new FtraceHash(0, 1));
        this.directFunctions = emptyHash;
    }

    /** Counts one {@code cost}. */
    void count(Cost cost) {
        costs.incrementAndGet(cost.ordinal());
    }

    /** Counts {@code n} of {@code cost}. */
    void count(Cost cost, long n) {
        costs.addAndGet(cost.ordinal(), n);
    }

    /**
     * {@code ftrace_find_rec_direct}: the direct trampoline of {@code ip}, or {@code null}. Lock-free;
     * the hash is protected by tasks RCU for readers on the call path.
     */
    CallTarget findRecDirect(long ip) {
        return directFunctions.findDirect(ip);
    }
}
