package dev.gtramp.trampoline;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.KernelException;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.bpf.BpfProg;

import java.util.ArrayList;
import java.util.List;

/**
 * A tracing multi link: one program on many functions, with a cookie per function, attached and
 * detached as one batch. Depending on the kernel's {@link MultiLinkMode} the program sits on each
 * function's per-function trampoline (upstream {@code bpf_trampoline_multi_attach/detach}) or on each
 * function's {@code kfunc_md}, served by {@code bpf_global_caller} ({@code struct bpf_gtramp_link}),
 * with {@linkplain #fallbacks() fallbacks} to trampolines for functions the caller cannot serve.
 *
 * <p>A close that fails (an image, ftrace's hashes, a call site) leaves the link open and attached
 * exactly as it was, so it can be closed again; closing a closed link does nothing, and concurrent
 * closes detach once ({@link LinkState}). Any other use of a closed link is {@code EBADF}.
 */
public final class BpfTracingMultiLink implements AutoCloseable {
    private final Trampolines owner;
    final BpfProg prog;
    private final List<KernelFunction> functions;
    private final long[] cookies;
    /** {@link MultiLinkMode#PER_FUNCTION}: the trampolines and this link's node on each; else null. */
    final List<BpfTrampoline> trampolines;
    final List<TrampNode> nodes;
    /** Global modes: one entry per function; else null. */
    final GlobalTrampoline.GlobalEntry[] entries;
    /** Global modes: the functions served by their trampolines. Written under {@code global_tr_lock} while attaching. */
    final List<MultiLinkFallback> fallbacks = new ArrayList<>();
    /** The targets left out by {@link TracingMultiOpts#skipInvalid(boolean)}; set once before the attach. */
    List<MultiLinkSkip> skipped = List.of();
    /**
     * {@code link->data}: the {@code reg}, {@code unreg} and {@code modify} hashes, allocated by the
     * attach and kept empty for the detach, which so allocates none to record its changes. Set
     * once the attach succeeded; used and freed by the detach under the trampoline locks.
     */
    DirectBatch batch;
    private final LinkState state = new LinkState();

    /** A link on per-function trampolines. */
    BpfTracingMultiLink(Trampolines owner, BpfProg prog, List<BpfTrampoline> trampolines, long[] cookies) {
        this.owner = owner;
        this.prog = prog;
        this.trampolines = List.copyOf(trampolines);
        this.cookies = cookiesFor(trampolines.size(), cookies);
        List<KernelFunction> fs = new ArrayList<>(trampolines.size());
        List<TrampNode> n = new ArrayList<>(trampolines.size());
        for (int i = 0; i < trampolines.size(); i++) {
            fs.add(trampolines.get(i).function);
            n.add(new TrampNode(prog, this.cookies[i], this));
        }
        this.functions = List.copyOf(fs);
        this.nodes = List.copyOf(n);
        this.entries = null;
    }

    /** A link on the global trampoline. */
    static BpfTracingMultiLink global(Trampolines owner, BpfProg prog, List<KernelFunction> functions, long[] cookies) {
        return new BpfTracingMultiLink(owner, prog, functions, cookies, true);
    }

    private BpfTracingMultiLink(Trampolines owner, BpfProg prog, List<KernelFunction> functions, long[] cookies,
                                boolean global) {
        this.owner = owner;
        this.prog = prog;
        this.functions = List.copyOf(functions);
        this.cookies = cookiesFor(functions.size(), cookies);
        this.entries = new GlobalTrampoline.GlobalEntry[functions.size()];
        for (int i = 0; i < entries.length; i++) {
            entries[i] = new GlobalTrampoline.GlobalEntry(functions.get(i), this.cookies[i]);
        }
        this.trampolines = null;
        this.nodes = null;
    }

    private static long[] cookiesFor(int n, long[] given) {
        long[] c = new long[n];
        if (given != null) {
            System.arraycopy(given, 0, c, 0, n);
        }
        return c;
    }

    public BpfProg prog() {
        checkOpen();
        return prog;
    }

    /** The functions, in the order given (the order of the cookies). */
    public List<String> functions() {
        checkOpen();
        List<String> out = new ArrayList<>(functions.size());
        for (KernelFunction f : functions) {
            out.add(f.name());
        }
        return out;
    }

    /** The cookies, one per function. */
    public long[] cookies() {
        checkOpen();
        return cookies.clone();
    }

    /**
     * The functions {@code bpf_global_caller} cannot serve and their trampolines serve instead, each
     * with the reason, whichever link first gave the function its trampoline; empty on per-function
     * trampolines, where every function has its trampoline.
     */
    public List<MultiLinkFallback> fallbacks() {
        checkOpen();
        return List.copyOf(fallbacks);
    }

    /**
     * The targets left out because the attach checks refuse them, each with the reason, when the
     * link was made with {@link TracingMultiOpts#skipInvalid(boolean)}; otherwise empty.
     */
    public List<MultiLinkSkip> skipped() {
        checkOpen();
        return skipped;
    }

    public int size() {
        return functions.size();
    }

    public boolean isClosed() {
        return state.isClosed();
    }

    /**
     * {@code bpf_tracing_multi_link_release}: detaches the program from every function in one
     * batch and drops the link's references. Closing a closed link does nothing.
     *
     * @throws KernelException ENOMEM or EFAULT (naming the object or the function) when building an
     *         image or an ftrace update fails, ESHUTDOWN if the kernel is closed; the link is then
     *         open and attached exactly as before
     */
    @Override
    public void close() {
        if (state.isClosed()) {
            return;
        }
        try (Kernel.Operation op = owner.kernel().beginOperation("bpf_tracing_multi_link_release of " + prog)) {
            if (!state.claimClose()) {
                return;
            }
            try {
                if (entries != null) {
                    owner.global().detach(this);
                } else {
                    MultiAttach.detach(owner, this);
                }
            } catch (RuntimeException e) {
                state.reopened();
                throw e;
            }
            state.closed();
        }
    }

    private void checkOpen() {
        if (state.isClosed()) {
            throw new KernelException(Errno.EBADF, "tracing multi link of " + prog + " is closed");
        }
    }

    @Override
    public String toString() {
        return "tracing multi link(" + prog.name() + " on " + functions.size() + " functions"
                + (fallbacks.isEmpty() ? "" : ", " + fallbacks.size() + " on trampolines")
                + (skipped.isEmpty() ? "" : ", " + skipped.size() + " skipped")
                + (state.isClosed() ? ", closed" : "") + ")";
    }
}
