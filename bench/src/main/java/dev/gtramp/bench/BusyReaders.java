package dev.gtramp.bench;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.rcu.RcuReader;

import java.util.concurrent.CountDownLatch;

/**
 * Busy reader CPUs for the grace-period benchmarks: {@code n} threads, thread {@code i} bound to
 * CPU {@code i} of a kernel, each running read-side sections back to back until {@link #close()}:
 * {@code rcu_read_lock(); rcu_dereference(gp)->value; rcu_read_unlock(); rcu_qs();}. With QSBR the
 * lock and unlock are free and the quiescent state is what a grace period waits for; with the
 * general flavor the quiescent state is a no-op and a grace period waits for the unlock.
 *
 * <p>The threads are not daemons; {@link #close()} stops and joins them, and each unbinds its CPU
 * before it exits, so the kernel can be closed afterwards.
 */
final class BusyReaders implements AutoCloseable {
    private final Thread[] threads;
    private final RcuPointer gp = new RcuPointer(7);
    private final CountDownLatch bound;
    private volatile boolean stop;
    /** Why a thread could not bind its CPU, or null. */
    private volatile RuntimeException bindFailure;
    /** The sum of the values each thread read, kept so that no read can be optimised away. */
    private final long[] sums;

    private BusyReaders(Kernel kernel, int n) {
        this.threads = new Thread[n];
        this.sums = new long[n];
        this.bound = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            int cpu = i;
            threads[i] = new Thread(() -> run(kernel, cpu), "busy-reader-cpu" + i);
        }
    }

    /**
     * Starts {@code n} reader threads on CPUs {@code 0..n-1} of {@code kernel} and returns once every
     * one has bound its CPU (and so is online for RCU).
     */
    static BusyReaders start(Kernel kernel, int n) {
        BusyReaders readers = new BusyReaders(kernel, n);
        for (Thread t : readers.threads) {
            t.start();
        }
        try {
            readers.bound.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            readers.close();
            throw new IllegalStateException("interrupted while starting reader threads", e);
        }
        RuntimeException failure = readers.bindFailure;
        if (failure != null) {
            readers.close();
            throw failure;
        }
        return readers;
    }

    private void run(Kernel kernel, int cpuId) {
        Cpu cpu;
        try {
            cpu = kernel.bindCpu(cpuId);
        } catch (RuntimeException e) {
            bindFailure = e;
            bound.countDown();
            return;
        }
        bound.countDown();
        long sum = 0;
        try (cpu) {
            RcuReader r = cpu.rcu();
            // Online for the whole run, as a CPU inside one long kernel call that reports a
            // quiescent state after each section (cond_resched); for the general flavor a no-op.
            r.online();
            try {
                while (!stop) {
                    r.lock();
                    sum += gp.deref();
                    r.unlock();
                    r.quiescentState();
                }
            } finally {
                r.offline();
            }
        }
        sums[cpuId] = sum;
    }

    /** Stops the threads and waits for them to unbind their CPUs. */
    @Override
    public void close() {
        stop = true;
        boolean interrupted = false;
        for (Thread t : threads) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
