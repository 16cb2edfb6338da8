package dev.gtramp.trampoline;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.bpf.BpfAttachType;
import dev.gtramp.kernel.bpf.BpfProg;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code struct bpf_tracing_multi_opts} that libbpf's {@code bpf_program__attach_tracing_multi}
 * or the kernel refuses: every malformed field is EINVAL (EFAULT for cookies the kernel cannot
 * copy) naming the field, never a silent reading and never a bare NullPointerException, and a
 * refused attach leaves nothing behind.
 */
class TracingMultiOptsTest extends SelftestKernel {
    private Trampolines t;
    private BpfProg multi;
    private long id1;
    private long id2;

    @BeforeEach
    void setUp() {
        t = boot(TrampolinesConfig.defaults());
        multi = BpfProg.builder(kernel, "multi", BpfAttachType.TRACE_FENTRY_MULTI).body(c -> 0).load();
        id1 = kernel.function("bpf_fentry_test1").imageFunction().index();
        id2 = kernel.function("bpf_fentry_test2").imageFunction().index();
    }

    private void fails(Errno errno, Executable attach, String... culprits) {
        KernelException e = assertThrows(KernelException.class, attach);
        assertEquals(errno, e.errno(), e.getMessage());
        for (String c : culprits) {
            assertTrue(e.getMessage().contains(c), () -> "'" + e.getMessage() + "' does not name " + c);
        }
        FentryFexitSelftestTest.assertNothingAttached(t);
        assertEquals(1, multi.refCount(), "a refused attach holds no program reference");
    }

    /** {@code cnt} is a u32 in the kernel: a negative count is not "all targets". */
    @Test
    void negativeCntIsRefused() {
        fails(Errno.EINVAL, () -> t.attachMulti(multi, null, TracingMultiOpts.create().ids(id1, id2).cnt(-5)),
                "cnt", "-5");
        fails(Errno.EINVAL, () -> t.attachMulti(multi, null, TracingMultiOpts.create().ids(id1, id2).cnt(-1)),
                "cnt", "-1");
    }

    /** Ids and names together: one of them would be ignored, as libbpf refuses pattern + ids. */
    @Test
    void idsWithNamesAreRefused() {
        fails(Errno.EINVAL, () -> t.attachMulti(multi, null, TracingMultiOpts.create().ids(id1)
                .names(List.of("bpf_fentry_test2"))), "ids", "names");
        fails(Errno.EINVAL, () -> t.attachMulti(multi, null, TracingMultiOpts.create()
                .names(List.of("bpf_fentry_test2")).ids(id1)), "ids", "names");
    }

    @Test
    void nullNamesAreRefused() {
        fails(Errno.EINVAL, () -> t.attachMulti(multi, null, TracingMultiOpts.create().names(null)), "names");
        fails(Errno.EINVAL, () -> t.attachMulti(multi, null, TracingMultiOpts.create()
                .names(Arrays.asList("bpf_fentry_test1", null, "bpf_fentry_test3"))), "names[1]");
    }

    @Test
    void nullIdsAndCookiesAreRefused() {
        fails(Errno.EINVAL, () -> t.attachMulti(multi, null, TracingMultiOpts.create().ids((long[]) null)), "ids");
        fails(Errno.EINVAL, () -> t.attachMulti(multi, null, TracingMultiOpts.create().ids(id1)
                .cookies((long[]) null)), "cookies");
    }

    /** Fewer cookies than targets: the kernel's copy of {@code cnt} cookies faults. */
    @Test
    void tooFewCookiesAreRefused() {
        fails(Errno.EFAULT, () -> t.attachMulti(multi, null, TracingMultiOpts.create().ids(id1, id2).cookies(7)),
                "cookies");
        fails(Errno.EFAULT, () -> t.attachMulti(multi, null, TracingMultiOpts.create()
                .names(List.of("bpf_fentry_test1", "bpf_fentry_test2")).cookies(7)), "cookies");
        // More cookies than cnt is fine: the kernel reads cnt of them.
        try (BpfTracingMultiLink l = t.attachMulti(multi, null,
                TracingMultiOpts.create().ids(id1, id2).cookies(7, 8, 9).cnt(2))) {
            assertEquals(List.of("bpf_fentry_test1", "bpf_fentry_test2"), l.functions());
            assertEquals(List.of(7L, 8L), Arrays.stream(l.cookies()).boxed().toList());
        }
        FentryFexitSelftestTest.assertNothingAttached(t);
    }
}
