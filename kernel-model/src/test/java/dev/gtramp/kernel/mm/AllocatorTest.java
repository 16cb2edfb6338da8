package dev.gtramp.kernel.mm;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelLog;
import dev.gtramp.kernel.fault.FaultInjector;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Accounting, poisoning, and the KASAN reports of use after free, double free and invalid free. */
class AllocatorTest {
    private final KernelLog log = new KernelLog(false);
    private final FaultInjector faults = new FaultInjector();

    private Allocator allocator(AllocatorConfig config) {
        return new Allocator(log, faults, config);
    }

    private final Allocator throwing = allocator(AllocatorConfig.defaults());
    private final Allocator recording = allocator(AllocatorConfig.defaults().withPanicOnViolation(false));

    private List<KernelLog.Entry> kasanLog() {
        return log.entries(e -> e.facility().equals("kasan"));
    }

    @Test
    void defaultsThrowAndRecordNoFreeStacks() {
        assertEquals(new AllocatorConfig(true, false), AllocatorConfig.defaults());
        assertEquals(new AllocatorConfig(false, true),
                AllocatorConfig.defaults().withPanicOnViolation(false).withRecordFreeStacks(true));
    }

    @Test
    void allocAndFreeAreAccountedByType() {
        TestObject a = throwing.alloc(new TestObject("kfunc_md", 64));
        TestObject b = throwing.alloc(new TestObject("kfunc_md", 64));
        TestObject t = throwing.alloc(new TestObject("bpf_trampoline", 1000));
        assertTrue(a.isLive());
        MemorySnapshot s = throwing.snapshot();
        assertEquals(new MemorySnapshot.TypeUsage(2, 128, 2, 0), s.usage("kfunc_md"));
        assertEquals(new MemorySnapshot.TypeUsage(1, 1000, 1, 0), s.usage("bpf_trampoline"));
        assertEquals(MemorySnapshot.TypeUsage.NONE, s.usage("nothing"));
        assertEquals(3, s.liveObjects());
        assertEquals(1128, s.liveBytes());

        assertTrue(throwing.free(a));
        assertTrue(a.isFreed());
        assertFalse(a.isLive());
        s = throwing.snapshot();
        assertEquals(new MemorySnapshot.TypeUsage(1, 64, 2, 1), s.usage("kfunc_md"));
        assertEquals(2, s.liveObjects());
        throwing.free(b);
        throwing.free(t);
        assertEquals(0, throwing.snapshot().liveObjects());
        assertEquals(0, throwing.snapshot().liveBytes());
        assertEquals(0, throwing.violations());
        assertTrue(kasanLog().isEmpty());
    }

    @Test
    void anObjectIsAllocatedOnce() {
        TestObject a = throwing.alloc(new TestObject("kfunc_md", 64));
        assertEquals(Errno.EINVAL, assertThrows(KernelException.class, () -> throwing.alloc(a)).errno());
        throwing.free(a);
        assertEquals(Errno.EINVAL, assertThrows(KernelException.class, () -> throwing.alloc(a)).errno());
        assertEquals(new MemorySnapshot.TypeUsage(0, 0, 1, 1), throwing.snapshot().usage("kfunc_md"));
    }

    @Test
    void aLiveObjectPassesTheGuard() {
        TestObject a = throwing.alloc(new TestObject("kfunc_md", 64));
        assertEquals("payload", a.payload());
        a.checkLive("kfunc_md_get");
        assertEquals(0, throwing.violations());
    }

    @Test
    void useAfterFreeThrowsAKasanReportNamingSiteTypeAndFreeingThread() {
        TestObject a = throwing.alloc(new TestObject("kfunc_md", 64));
        throwing.free(a);
        KasanException e = assertThrows(KasanException.class, a::payload);
        String thread = Thread.currentThread().getName();
        assertEquals(Errno.EFAULT, e.errno());
        assertEquals("EFAULT: BUG: KASAN: use-after-free in TestObject.payload: kfunc_md object freed by thread " + thread,
                e.getMessage());
        KasanReport r = e.report();
        assertEquals(KasanReport.Kind.USE_AFTER_FREE, r.kind());
        assertEquals("kfunc_md", r.type());
        assertEquals(64, r.size());
        assertEquals("TestObject.payload", r.where());
        assertEquals(thread, r.thread());
        assertEquals(thread, r.freeThread());
        assertTrue(r.freeStack().isEmpty(), "free stacks are off by default");
        assertEquals(TestObject.class.getName(), r.accessStack().get(0).getClassName(), r.accessStack().toString());
        assertEquals("payload", r.accessStack().get(0).getMethodName());
        assertTrue(r.accessStack().size() <= Stacks.REPORT_FRAMES);

        assertEquals(List.of(r), throwing.reports());
        assertEquals(1, throwing.violations());
        List<KernelLog.Entry> logged = kasanLog();
        assertEquals(1, logged.size());
        assertEquals(KernelLog.Level.ERR, logged.get(0).level());
        assertEquals(r.text(), logged.get(0).message());
        assertTrue(r.text().startsWith(r.title() + "\nAccess of kfunc_md (64 bytes) by thread " + thread + ":\n "
                + TestObject.class.getName() + ".payload("), r.text());
        assertTrue(r.text().contains("Freed by thread " + thread + ": (stack not recorded"), r.text());
    }

    @Test
    void checkLiveNamesTheSiteItIsGiven() {
        TestObject a = throwing.alloc(new TestObject("kfunc_md", 64));
        throwing.free(a);
        KasanException e = assertThrows(KasanException.class, () -> a.checkLive("kfunc_md_get"));
        assertEquals("kfunc_md_get", e.report().where());
        assertTrue(e.getMessage().contains("use-after-free in kfunc_md_get: kfunc_md object"), e.getMessage());
    }

    @Test
    void recordOnlyReportsEachUseAfterFreeAndLetsTheAccessGoOnToPoisonedState() {
        TestObject a = recording.alloc(new TestObject("bpf_tramp_image", 4096));
        recording.free(a);
        assertNull(a.payload(), "the access goes on and finds the reference poisoned");
        assertNull(a.payload());
        assertEquals(2, recording.violations());
        List<KasanReport> reports = recording.reports();
        assertEquals(2, reports.size());
        assertEquals("BUG: KASAN: use-after-free in TestObject.payload: bpf_tramp_image object freed by thread "
                + Thread.currentThread().getName(), reports.get(0).title());
        assertEquals(2, kasanLog().size());
        assertTrue(kasanLog().get(1).message().startsWith(reports.get(1).title()));
    }

    @Test
    void freeingPoisonsTheObjectSoAnUnguardedUseSeesNoStaleData() {
        TestObject a = throwing.alloc(new TestObject("kfunc_md", 64));
        assertEquals("payload", a.payloadUnguarded());
        throwing.free(a);
        assertNull(a.payloadUnguarded());
    }

    @Test
    void doubleFreeIsReportedWithTheFirstFree() {
        TestObject a = throwing.alloc(new TestObject("kfunc_md", 64));
        throwing.free(a);
        KasanException e = assertThrows(KasanException.class, () -> throwing.free(a));
        KasanReport r = e.report();
        assertEquals(KasanReport.Kind.DOUBLE_FREE, r.kind());
        assertTrue(r.where().startsWith("AllocatorTest.lambda$doubleFree"), "the calling method: " + r.where());
        assertTrue(r.title().startsWith("BUG: KASAN: double-free in AllocatorTest."), r.title());
        assertTrue(r.title().endsWith(": kfunc_md object freed by thread " + Thread.currentThread().getName()), r.title());
        assertTrue(r.text().contains("\nFree of kfunc_md (64 bytes) by thread "), r.text());
        assertEquals(new MemorySnapshot.TypeUsage(0, 0, 1, 1), throwing.snapshot().usage("kfunc_md"), "counted once");

        TestObject b = recording.alloc(new TestObject("x", 1));
        assertTrue(recording.free(b, "kfree"));
        assertFalse(recording.free(b, "kfree"));
        assertEquals("BUG: KASAN: double-free in kfree: x object freed by thread " + Thread.currentThread().getName(),
                recording.reports().get(0).title());
        assertEquals(new MemorySnapshot.TypeUsage(0, 0, 1, 1), recording.snapshot().usage("x"));
    }

    @Test
    void freeOfANeverAllocatedObjectIsAnInvalidFree() {
        TestObject a = new TestObject("kfunc_md", 64);
        KasanException e = assertThrows(KasanException.class, () -> throwing.free(a, "kfunc_md_put"));
        assertEquals("BUG: KASAN: invalid-free in kfunc_md_put: kfunc_md object was never allocated", e.report().title());
        assertNull(e.report().freeThread());
        assertFalse(a.isFreed());
        assertEquals(MemorySnapshot.TypeUsage.NONE, throwing.snapshot().usage("kfunc_md"));

        assertFalse(recording.free(a));
        assertEquals(KasanReport.Kind.INVALID_FREE, recording.reports().get(0).kind());
    }

    @Test
    void freeToAnotherKernelsAllocatorIsAnInvalidFree() {
        TestObject a = recording.alloc(new TestObject("kfunc_md", 64));
        KasanException e = assertThrows(KasanException.class, () -> throwing.free(a, "kfree"));
        assertEquals("BUG: KASAN: invalid-free in kfree: kfunc_md object belongs to another kernel", e.report().title());
        assertTrue(a.isLive());
        assertEquals(1, recording.snapshot().usage("kfunc_md").liveObjects());
    }

    @Test
    void accessToANeverAllocatedObjectAlwaysThrows() {
        TestObject a = new TestObject("kfunc_md", 64);
        KasanException e = assertThrows(KasanException.class, a::payload);
        assertEquals("BUG: KASAN: invalid-access in TestObject.payload: kfunc_md object was never allocated",
                e.report().title());
    }

    @Test
    void freeStacksAreRecordedWhenConfigured() {
        Allocator a = allocator(AllocatorConfig.defaults().withRecordFreeStacks(true));
        TestObject o = a.alloc(new TestObject("kfunc_md", 64));
        freeFromANamedMethod(a, o);
        KasanReport r = assertThrows(KasanException.class, o::payload).report();
        assertFalse(r.freeStack().isEmpty());
        StackTraceElement top = r.freeStack().get(0);
        assertEquals(AllocatorTest.class.getName(), top.getClassName());
        assertEquals("freeFromANamedMethod", top.getMethodName());
        assertTrue(r.text().contains("Freed by thread " + Thread.currentThread().getName() + ":\n "
                + AllocatorTest.class.getName() + ".freeFromANamedMethod("), r.text());
    }

    private static void freeFromANamedMethod(Allocator a, KernelObject o) {
        a.free(o);
    }

    @Test
    void reportsAreKeptUpToALimitButAllAreCounted() {
        TestObject a = recording.alloc(new TestObject("kfunc_md", 64));
        recording.free(a);
        for (int i = 0; i < Allocator.MAX_REPORTS + 5; i++) {
            a.checkLive("loop");
        }
        assertEquals(Allocator.MAX_REPORTS, recording.reports().size());
        assertEquals(Allocator.MAX_REPORTS + 5, recording.violations());
    }

    @Test
    void aUseAfterFreeOnAnotherThreadNamesBothThreads() throws Exception {
        TestObject a = throwing.alloc(new TestObject("kfunc_md", 64));
        Thread freer = new Thread(() -> throwing.free(a), "rcu-callback");
        freer.start();
        freer.join();
        KasanReport r = assertThrows(KasanException.class, a::payload).report();
        assertEquals("rcu-callback", r.freeThread());
        assertEquals(Thread.currentThread().getName(), r.thread());
        assertTrue(r.title().endsWith("kfunc_md object freed by thread rcu-callback"), r.title());
    }

    /**
     * Two threads free the same object at once, many times over: exactly one wins, the other is the
     * double free. The threads meet at a spinning gate rather than a blocking barrier, so that they
     * leave it within nanoseconds of each other and race inside free (a blocking barrier's wake-up
     * skew is longer than free's load-to-CAS window, and a plain store instead of the CAS went
     * unnoticed with one).
     */
    @Test
    void ofTwoRacingFreesExactlyOneWins() throws Exception {
        int rounds = 20_000;
        TestObject[] objects = new TestObject[rounds];
        for (int i = 0; i < rounds; i++) {
            objects[i] = recording.alloc(new TestObject("kfunc_md", 64));
        }
        AtomicInteger gate = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<boolean[]> f0 = pool.submit(() -> freeAll(objects, gate));
            Future<boolean[]> f1 = pool.submit(() -> freeAll(objects, gate));
            boolean[] won0 = f0.get(60, TimeUnit.SECONDS);
            boolean[] won1 = f1.get(60, TimeUnit.SECONDS);
            for (int i = 0; i < rounds; i++) {
                assertTrue(won0[i] ^ won1[i], "round " + i + ": " + won0[i] + " " + won1[i]);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(new MemorySnapshot.TypeUsage(0, 0, rounds, rounds), recording.snapshot().usage("kfunc_md"));
        assertEquals(rounds, recording.violations());
        assertTrue(recording.reports().stream().allMatch(r -> r.kind() == KasanReport.Kind.DOUBLE_FREE));
    }

    private boolean[] freeAll(TestObject[] objects, AtomicInteger gate) {
        boolean[] won = new boolean[objects.length];
        for (int i = 0; i < objects.length; i++) {
            gate.incrementAndGet();
            for (int spins = 1; gate.get() < 2 * (i + 1); spins++) {
                if (spins % 1024 == 0) {
                    Thread.yield(); // lets the other thread run on a machine with one CPU
                } else {
                    Thread.onSpinWait();
                }
            }
            won[i] = recording.free(objects[i], "race");
        }
        return won;
    }

    @Test
    void aLeakDiffNamesEachTypeThatGrewAndByHowMuch() {
        TestObject older = throwing.alloc(new TestObject("kfunc_md", 64));
        TestObject shrinking = throwing.alloc(new TestObject("bpf_prog", 512));
        MemorySnapshot before = throwing.snapshot();
        TestObject leak1 = throwing.alloc(new TestObject("kfunc_md", 64));
        throwing.alloc(new TestObject("kfunc_md", 64));
        throwing.alloc(new TestObject("bpf_tramp_image", 4096));
        TestObject transient1 = throwing.alloc(new TestObject("ftrace_hash", 32));
        throwing.free(transient1); // allocated and freed in between: no leak
        throwing.free(shrinking); // a type that shrank: no leak
        throwing.free(older);
        throwing.alloc(new TestObject("kfunc_md", 64));
        MemorySnapshot after = throwing.snapshot();

        LeakReport leaks = after.leaksSince(before);
        assertFalse(leaks.isEmpty());
        assertEquals(List.of(new LeakReport.Leak("bpf_tramp_image", 1, 4096), new LeakReport.Leak("kfunc_md", 2, 128)),
                leaks.leaks());
        assertEquals(2, leaks.objects("kfunc_md"));
        assertEquals(0, leaks.objects("ftrace_hash"));
        assertEquals(0, leaks.objects("bpf_prog"));
        assertEquals("leaked: bpf_tramp_image +1 objects (+4096 bytes); kfunc_md +2 objects (+128 bytes)", leaks.toString());
        assertEquals(leaks, LeakReport.between(before, after));

        throwing.free(leak1);
        MemorySnapshot later = throwing.snapshot();
        assertEquals(List.of(new LeakReport.Leak("bpf_tramp_image", 1, 4096), new LeakReport.Leak("kfunc_md", 1, 64)),
                later.leaksSince(before).leaks());
        assertTrue(later.leaksSince(later).isEmpty());
        assertEquals("no leaks", later.leaksSince(later).toString());
    }
}
