package dev.gtramp.kernel.percpu;

import dev.gtramp.kernel.rcu.RcuReader;

/**
 * The CPU a per-CPU operation runs on, as the kernel's {@code this_cpu_*} operations see it: its
 * number, which picks the slot of a per-CPU variable, and its reader of the RCU domain that
 * protects the operation (a {@code percpu_ref}'s mode test and slot update happen inside one
 * read-side section of it).
 *
 * <p>{@link dev.gtramp.kernel.Cpu} is the CPU the call path runs on. A slot has a single writer only
 * if one thread at a time runs on the CPU, which is what binding a {@code Cpu} guarantees; any other
 * implementation must guarantee it too.
 */
public interface ThisCpu {
    /** {@code smp_processor_id()}: the slot of every per-CPU variable this CPU writes. */
    int id();

    /** This CPU's reader of the RCU domain: {@code rcu_read_lock()} is {@code rcu().lock()}. */
    RcuReader rcu();
}
