package dev.gtramp.kernel;

import dev.gtramp.kernel.image.KernelImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The call path: entry sites, bodies, nesting, CPUs, and the errors of bad calls. */
class KernelCallTest {
    private Kernel kernel;
    private Cpu cpu;

    @BeforeEach
    void boot() {
        kernel = Kernel.boot(KernelImage.linux618(), KernelConfig.defaults().withCpus(2));
        cpu = kernel.bindCpu(0);
    }

    @AfterEach
    void unbind() {
        cpu.close();
    }

    @Test
    void aNopSiteRunsTheRealBody() {
        KernelFunction f = kernel.function("bpf_fentry_test2");
        assertTrue(f.site().isNop());
        assertEquals(5, cpu.call(f, 2, 3));
        // int a + u64 b, truncated to the int return: the C conversions apply.
        assertEquals(-1, (int) cpu.call(f, 0xffffffffL, 0));
        assertEquals(15, cpu.call(kernel.function("bpf_fentry_test3"), 4, 5, 6));
        assertEquals(0, cpu.depth());
    }

    @Test
    void aPatchedSiteEntersItsTargetWhichMayMakeTheOriginCall() {
        KernelFunction f = kernel.function("bpf_fentry_test1");
        List<String> events = new ArrayList<>();
        f.site().write(frame -> {
            events.add("enter " + frame.function().name() + " arg0=" + frame.arg(0) + " ip=" + Long.toHexString(frame.ip()));
            long ret = frame.callOrigin();
            events.add("exit ret=" + ret);
            return ret * 10;
        });
        assertEquals(30, cpu.call(f, 2));
        assertEquals(List.of("enter bpf_fentry_test1 arg0=2 ip=ffffffff81f5d2f0", "exit ret=3"), events);

        // A target that skips the origin (an fmod_ret returning non-zero) decides the return value.
        f.site().write(frame -> -22);
        assertEquals(-22, cpu.call(f, 2));
        f.site().write(null);
        assertEquals(3, cpu.call(f, 2));
    }

    @Test
    void bodiesNestCallsOnTheSameCpu() {
        KernelFunction outer = kernel.function("ksys_read");
        KernelFunction inner = kernel.function("bpf_fentry_test1");
        AtomicLong innerDepth = new AtomicLong();
        inner.site().write(frame -> {
            innerDepth.set(frame.cpu().depth());
            return frame.callOrigin();
        });
        outer.setBody(frame -> frame.cpu().call(inner, frame.arg(0)) + frame.cpu().call(inner, frame.arg(2)));
        assertEquals(3, outer.argWords(), "ksys_read(unsigned int fd, char *buf, size_t count)");
        assertEquals((10 + 1) + (20 + 1), cpu.call(outer, 10, 0, 20));
        assertEquals(2, innerDepth.get());
        assertEquals(0, cpu.depth());
    }

    @Test
    void defaultBodiesAreDeterministicAndDependOnArguments() {
        KernelFunction f = kernel.function("tcp_sendmsg");
        long a = cpu.call(f, 1, 2, 3);
        assertEquals(a, cpu.call(f, 1, 2, 3));
        assertNotEquals(a, cpu.call(f, 1, 2, 4));
        assertEquals((int) a, a, "tcp_sendmsg returns int: the value is sign-extended from 32 bits");
        Kernel other = Kernel.boot(KernelImage.linux618());
        try (Cpu c = other.bindCpu(0)) {
            assertEquals(a, c.call(other.function("tcp_sendmsg"), 1, 2, 3), "the same in another kernel");
        }
    }

    @Test
    void kernelsAreIndependent() {
        Kernel other = Kernel.boot(KernelImage.linux618());
        kernel.function("bpf_fentry_test1").site().write(frame -> 42);
        try (Cpu c = other.bindCpu(0)) {
            assertEquals(2, c.call(other.function("bpf_fentry_test1"), 1));
        }
        assertEquals(42, cpu.call(kernel.function("bpf_fentry_test1"), 1));
        KernelException e = assertThrows(KernelException.class, () -> cpu.call(other.function("bpf_fentry_test1"), 1));
        assertEquals(Errno.EINVAL, e.errno());
    }

    @Test
    void badCallsNameTheCulprit() {
        KernelException e = assertThrows(KernelException.class, () -> kernel.function("no_such_symbol"));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("no_such_symbol"));

        e = assertThrows(KernelException.class, () -> cpu.call(kernel.function("bpf_fentry_test2"), 1));
        assertEquals(Errno.EINVAL, e.errno());
        assertTrue(e.getMessage().contains("bpf_fentry_test2 takes 2 argument words, called with 1"), e.getMessage());

        e = assertThrows(KernelException.class, () -> kernel.functionAt(0x1234));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("0x1234"));

        KernelFunction f = kernel.function("bpf_fentry_test1");
        f.site().write(frame -> frame.arg(1));
        e = assertThrows(KernelException.class, () -> cpu.call(f, 1));
        assertTrue(e.getMessage().contains("argument 1 does not exist"), e.getMessage());
        assertEquals(0, cpu.depth(), "a failed call unwinds its frame");
    }

    @Test
    void recursionDeeperThanTheKernelStackFails() {
        KernelFunction f = kernel.function("bpf_fentry_test1");
        f.setBody(frame -> frame.cpu().call(f, frame.arg(0) + 1));
        KernelException e = assertThrows(KernelException.class, () -> cpu.call(f, 0));
        assertEquals(Errno.E2BIG, e.errno());
        assertTrue(e.getMessage().contains("stack overflow") && e.getMessage().contains("bpf_fentry_test1"));
        assertEquals(0, cpu.depth());
    }

    @Test
    void aCpuBindsToOneThreadAtATime() throws Exception {
        KernelException e = assertThrows(KernelException.class, () -> kernel.bindCpu(0));
        assertEquals(Errno.EBUSY, e.errno());
        // Another thread may neither bind CPU 0 nor call on it; it may bind CPU 1.
        CompletableFuture<String> other = CompletableFuture.supplyAsync(() -> {
            KernelException busy = assertThrows(KernelException.class, () -> kernel.bindCpu(0));
            KernelException notMine = assertThrows(KernelException.class,
                    () -> cpu.call(kernel.function("bpf_fentry_test1"), 1));
            try (Cpu c1 = kernel.bindCpu(1)) {
                return busy.errno() + " " + notMine.errno() + " " + c1.call(kernel.function("bpf_fentry_test1"), 7);
            }
        });
        assertEquals("EBUSY EPERM 8", other.get());
        assertNull(kernel.cpu(1).owner(), "closing unbinds");
        assertThrows(KernelException.class, () -> kernel.cpu(2));
    }

    @Test
    void aliasesShareTheirEntrySiteAndBody() {
        KernelFunction ept = kernel.function("ept_gpte_changed");
        KernelFunction paging = kernel.function("paging64_gpte_changed");
        assertTrue(ept.site() == paging.site(), "one address, one site");
        ept.setBody(frame -> 77);
        assertEquals(77, cpu.callWith(paging, new long[paging.argWords()]));
        paging.site().write(frame -> 78);
        assertEquals(78, cpu.callWith(ept, new long[ept.argWords()]));
    }

    @Test
    void configRejectsBadCpuCounts() {
        assertThrows(KernelException.class, () -> KernelConfig.defaults().withCpus(0));
        assertThrows(KernelException.class, () -> KernelConfig.defaults().withCpus(KernelConfig.MAX_CPUS + 1));
    }
}
