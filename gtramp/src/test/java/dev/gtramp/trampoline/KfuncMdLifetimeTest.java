package dev.gtramp.trampoline;

import dev.gtramp.kernel.Cpu;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelConfig;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.bpf.BpfTrampKind;
import dev.gtramp.kernel.image.KernelImage;
import dev.gtramp.kernel.rcu.RcuFlavor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lifetimes around {@code bpf_global_caller}, driven step by step: RCU callbacks run only when
 * the test runs them ({@code KernelConfig.withManualRcuCallbacks}), and CPU 0's call is held inside
 * the traced function's body while the writer detaches, so each test decides exactly which grace
 * periods have passed.
 */
class KfuncMdLifetimeTest {
    private static final long TIMEOUT_SECONDS = 20;

    private Kernel kernel;
    private Thread cpuThread;
    private final CountDownLatch inBody = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicReference<Object> result = new AtomicReference<>();

    @AfterEach
    void tearDown() throws InterruptedException {
        release.countDown();
        if (cpuThread != null) {
            cpuThread.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        }
        if (kernel != null) {
            kernel.close();
        }
    }

    /**
     * The v2 caller walks the fentry list outside {@code rcu_read_lock}: tasks RCU alone keeps the
     * walk's nodes, which wait for an RCU and a tasks-RCU grace period, so the programs the nodes
     * point to must last as long. CPU 0 has walked {@code f}'s fentry list and is preempted in
     * {@code f}'s body (blocked without {@code schedule()}: still inside its kernel call, a tasks-RCU
     * reader, but outside any RCU read-side section). The link of {@code p} closes and every RCU
     * callback runs; the tasks-RCU grace period cannot end while CPU 0 is in its call, so the node
     * of {@code p} stays live, and so must {@code p}: a caller in CPU 0's place may be standing on
     * that node, about to run the program. Only after the node's free may the program go, one RCU
     * grace period later ({@code bpf_prog_put}).
     */
    @Test
    void aProgramOutlivesTheNodesTasksRcuReadersMayStandOn() throws Exception {
        kernel = Kernel.boot(KernelImage.linux618(), KernelConfig.defaults().withRcu(RcuFlavor.GENERAL)
                .withManualRcuCallbacks(true));
        Trampolines t = Trampolines.create(kernel, TrampolinesConfig.global(MultiLinkMode.GLOBAL_HASH)
                .withFreeProtocol(KfuncMdFreeProtocol.KILL_THEN_TASKS_RCU));
        KernelFunction f = kernel.function("bpf_fentry_test1");
        f.setBody(frame -> {
            inBody.countDown();
            awaitUninterruptibly(release);
            return 2;
        });
        long[] runs = {0, 0};
        BpfProg keep = BpfProg.builder(kernel, "keep", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> {
            runs[0]++;
            return 0;
        }).load();
        BpfProg p = BpfProg.builder(kernel, "p", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> {
            runs[1]++;
            return 0;
        }).load();
        // keep's link holds f on the global caller, so closing p's link only unlinks p's node.
        BpfTracingMultiLink keepLink = t.attachMulti(keep, "bpf_fentry_test1", null);
        BpfTracingMultiLink link = t.attachMulti(p, "bpf_fentry_test1", null);
        p.close();
        KfuncMds mds = t.global().mds();
        KfuncMdProg node = node(mds, f, p);

        startCall(f);
        assertTrue(inBody.await(TIMEOUT_SECONDS, TimeUnit.SECONDS), "CPU 0 never reached f's body");
        link.close();
        kernel.rcu().barrier();

        assertTrue(node.isLive(), "the node of p waits for the tasks-RCU grace period CPU 0's call holds up");
        assertFalse(p.isFreed(), "p was freed after an RCU grace period while its kfunc_md_tramp_prog node, which"
                + " a caller inside the same tasks-RCU read-side section as CPU 0's may stand on, is live");

        release.countDown();
        cpuThread.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        assertEquals(2L, result.get(), "CPU 0's call");
        kernel.tasksRcu().barrier();
        assertTrue(node.isFreed(), "the node is freed once CPU 0's call has left");
        assertFalse(p.isFreed(), "p is freed one RCU grace period after its last reference, the node's, is gone");
        kernel.rcu().barrier();
        assertTrue(p.isFreed(), "p is freed in the end");
        assertEquals(1, runs[1], "p ran once, in CPU 0's call");
        assertEquals(0, kernel.allocator().violations(), () -> kernel.allocator().reports().toString());
        keepLink.close();
        keep.close();
    }

    static Stream<TrampolinesConfig> globalConfigs() {
        return SelftestKernel.globalConfigs();
    }

    /**
     * {@code bpf_global_caller} takes no lock and allocates nothing, the last {@code percpu_ref_put}
     * included: the md's release, which then runs on the calling CPU, only queues the free. CPU 0
     * calls {@code f} with an fexit program attached and sleeps in the origin, holding the md's ref,
     * while the link closes and every RCU callback runs; then CPU 0 returns through the caller and
     * drops the last reference. Freeing there would take {@code percpu_ref_switch_lock} (the exit),
     * the padding index's slot lock, and the allocator, all on the traced call. The md must still be
     * live when CPU 0's call has returned, and be freed by the callbacks that run after.
     */
    @ParameterizedTest
    @MethodSource("globalConfigs")
    void theLastPutOnTheCallPathOnlyQueuesTheFree(TrampolinesConfig config) throws Exception {
        kernel = Kernel.boot(KernelImage.linux618(), KernelConfig.defaults().withManualRcuCallbacks(true));
        Trampolines t = Trampolines.create(kernel, config);
        KernelFunction f = kernel.function("bpf_fentry_test1");
        f.setBody(frame -> {
            inBody.countDown();
            // A voluntary sleep: no grace period waits for it; only the md's percpu_ref holds the md.
            frame.cpu().schedule(() -> awaitUninterruptibly(release));
            return 2;
        });
        BpfProg fexit = BpfProg.builder(kernel, "fexit", BpfAttachType.TRACE_FEXIT_MULTI).body(c -> 0).load();
        BpfTracingMultiLink link = t.attachMulti(fexit, "bpf_fentry_test1", null);
        KfuncMd md = t.global().mds().get(f);
        assertNull(md.tramp, "bpf_global_caller serves f");

        startCall(f);
        assertTrue(inBody.await(TIMEOUT_SECONDS, TimeUnit.SECONDS), "CPU 0 never reached f's body");
        link.close();
        fexit.close();
        settle();
        assertTrue(md.isLive(), "CPU 0's percpu_ref holds the md across every grace period");

        release.countDown();
        cpuThread.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        assertEquals(2L, result.get(), "CPU 0's call");
        assertTrue(md.isLive(), "the last percpu_ref_put freed the md on the calling CPU, inside the traced call");
        assertEquals(1, t.kfuncMdsRetiring(), "the md's free is queued");

        settle();
        assertTrue(md.isFreed(), "the queued free ran with the RCU callbacks");
        assertEquals(0, t.kfuncMdsRetiring());
        assertEquals(0, kernel.allocator().violations(), () -> kernel.allocator().reports().toString());
    }

    /**
     * A new md for a function whose old md waits for a call: CPU 0 calls {@code f} through an fexit
     * link, holds md A's {@code percpu_ref} and sleeps in the origin; A's link closes (A
     * unpublished, its ref killed after the grace periods) and a link of another fexit program
     * attaches to {@code f}, which must create a new md B rather than revive A. The call walks A,
     * whose fexit list is empty by then, so it runs neither program; A is freed after the call's
     * put without disturbing B, which the next call finds and runs.
     */
    @ParameterizedTest
    @MethodSource("globalConfigs")
    void aNewMdForTheFunctionLeavesTheOldOneToTheCallHoldingIt(TrampolinesConfig config) throws Exception {
        kernel = Kernel.boot(KernelImage.linux618(), KernelConfig.defaults().withManualRcuCallbacks(true));
        Trampolines t = Trampolines.create(kernel, config);
        KernelFunction f = kernel.function("bpf_fentry_test1");
        f.setBody(frame -> {
            inBody.countDown();
            frame.cpu().schedule(() -> awaitUninterruptibly(release));
            return 2;
        });
        int[] runs = {0, 0};
        BpfProg a = BpfProg.builder(kernel, "a", BpfAttachType.TRACE_FEXIT_MULTI).body(c -> {
            runs[0]++;
            return 0;
        }).load();
        BpfProg b = BpfProg.builder(kernel, "b", BpfAttachType.TRACE_FEXIT_MULTI).body(c -> {
            runs[1]++;
            return 0;
        }).load();
        BpfTracingMultiLink linkA = t.attachMulti(a, "bpf_fentry_test1", null);
        KfuncMd mdA = t.global().mds().get(f);
        assertNull(mdA.tramp, "bpf_global_caller serves f");

        startCall(f);
        assertTrue(inBody.await(TIMEOUT_SECONDS, TimeUnit.SECONDS), "CPU 0 never reached f's body");
        linkA.close();
        settle();
        BpfTracingMultiLink linkB = t.attachMulti(b, "bpf_fentry_test1", null);
        KfuncMd mdB = t.global().mds().get(f);
        assertTrue(mdB != null && mdB != mdA, "link b got a new md, not the retiring one");
        assertTrue(mdA.isLive(), "CPU 0's percpu_ref holds the old md");

        release.countDown();
        cpuThread.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        assertEquals(2L, result.get(), "CPU 0's call");
        assertEquals(0, runs[1], "the call walked the md it held, without b");
        settle();
        assertTrue(mdA.isFreed(), "the old md is freed after the call's put");
        assertTrue(mdB.isLive());
        assertEquals(mdB, t.global().mds().get(f), "the old md's free left the new one published");
        try (Cpu cpu = kernel.bindCpu(0)) {
            assertEquals(2L, cpu.call(f, 1));
        }
        assertEquals(1, runs[1], "the next call runs b once, through the new md");
        assertEquals(0, runs[0]);
        linkB.close();
        a.close();
        b.close();
        settle();
        assertEquals(0, t.kfuncMdCount());
        assertEquals(0, t.kfuncMdsRetiring());
        assertEquals(0, kernel.allocator().violations(), () -> kernel.allocator().reports().toString());
    }

    /** The node of {@code prog} on {@code f}'s md, as a writer finds it. */
    private static KfuncMdProg node(KfuncMds mds, KernelFunction f, BpfProg prog) {
        mds.mutex().lock();
        try {
            return mds.index().lookup(f).find(BpfTrampKind.FENTRY, prog);
        } finally {
            mds.mutex().unlock();
        }
    }

    /** CPU 0, on a thread of its own, calls {@code f(1)}; {@link #result} gets the value or the failure. */
    private void startCall(KernelFunction f) {
        cpuThread = new Thread(() -> {
            try (Cpu cpu = kernel.bindCpu(0)) {
                result.set(cpu.call(f, 1));
            } catch (Throwable e) {
                result.set(e);
            }
        }, "cpu0-caller");
        cpuThread.start();
    }

    /** Runs every queued callback of both domains, the chains from one to the other included. */
    private void settle() {
        for (int i = 0; i < 4; i++) {
            kernel.tasksRcu().barrier();
            kernel.rcu().barrier();
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
