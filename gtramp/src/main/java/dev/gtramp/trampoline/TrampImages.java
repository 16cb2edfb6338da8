package dev.gtramp.trampoline;

import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.UnsafeVariant;
import dev.gtramp.kernel.bpf.BpfTrampKind;

import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The lifecycle of one kernel's trampoline images ({@code struct bpf_tramp_image}):
 * {@code bpf_tramp_image_alloc}, {@code bpf_tramp_image_put} of an image no site calls any more,
 * {@code __bpf_tramp_image_release} once its last in-flight origin call has left, and
 * {@code bpf_tramp_image_free}, for the images of regular and multi links alike.
 *
 * <p>Invariant: {@link #retiring()} counts the images put and not yet freed; an image is freed
 * only after every call that could be inside it has left (tasks RCU for the code before
 * {@code __bpf_tramp_enter} and after {@code __bpf_tramp_exit}, the image's {@code percpu_ref} for
 * a call inside the origin function).
 */
final class TrampImages {
    private final Kernel kernel;
    /** {@link UnsafeVariant#TRAMP_IMAGE_PUT_WITHOUT_PERCPU_REF}, for the stress suite. */
    private final boolean putWithoutPercpuRef;
    /** {@link UnsafeVariant#TRAMP_IMAGE_UPDATE_IN_PLACE}, for the stress suite. */
    private final boolean updatesInPlace;
    /** {@link UnsafeVariant#MULTI_RETIRE_AS_UNPUBLISHED}, for the stress suite. */
    private final boolean retireAsUnpublished;
    private final AtomicLong retiring = new AtomicLong();

    TrampImages(Kernel kernel) {
        this.kernel = kernel;
        Set<UnsafeVariant> unsafe = kernel.config().unsafeVariants();
        this.putWithoutPercpuRef = unsafe.contains(UnsafeVariant.TRAMP_IMAGE_PUT_WITHOUT_PERCPU_REF);
        this.updatesInPlace = unsafe.contains(UnsafeVariant.TRAMP_IMAGE_UPDATE_IN_PLACE);
        this.retireAsUnpublished = unsafe.contains(UnsafeVariant.MULTI_RETIRE_AS_UNPUBLISHED);
    }

    Kernel kernel() {
        return kernel;
    }

    /** Whether the kernel runs the broken {@link UnsafeVariant#TRAMP_IMAGE_UPDATE_IN_PLACE}. */
    boolean updatesInPlace() {
        return updatesInPlace;
    }

    /** {@code bpf_tramp_image_alloc} and {@code arch_prepare_bpf_trampoline} for {@code tr}'s programs. */
    BpfTrampImage build(BpfTrampoline tr, int flags) {
        return kernel.allocator().alloc(new BpfTrampImage(this, tr.function.name(), tr.nrArgs, flags,
                tr.progs(BpfTrampKind.FENTRY), tr.progs(BpfTrampKind.MODIFY_RETURN), tr.progs(BpfTrampKind.FEXIT)));
    }

    /**
     * {@code bpf_tramp_image_put}: retires an image no call site calls any more.
     *
     * <p>With an origin call: patch {@code ip_after_call} so returning calls skip the fexit programs,
     * then {@code call_rcu_tasks} (tasks still in the instructions before {@code __bpf_tramp_enter}),
     * then {@code percpu_ref_kill}; the release ({@link #released}) waits one more tasks-RCU grace
     * period for the epilogue and frees. Without: {@code call_rcu_tasks_trace} (modelled by an RCU
     * grace period: sleepable programs are not modelled), then {@code call_rcu_tasks}, then free.
     */
    void put(BpfTrampImage im) {
        retiring.incrementAndGet();
        if (im.callsOrigin()) {
            im.patchAfterCallToEpilogue();
            if (putWithoutPercpuRef) {
                // Broken on purpose: trusts tasks RCU alone, which does not wait for a call that
                // sleeps in the origin function.
                kernel.tasksRcu().call(() -> free(im));
                return;
            }
            kernel.tasksRcu().call(im.pcref::kill);
        } else {
            kernel.rcu().call(() -> kernel.tasksRcu().call(() -> free(im)));
        }
    }

    /** {@code __bpf_tramp_image_release}: the last in-flight origin call has left the image. */
    void released(BpfTrampImage im) {
        kernel.tasksRcu().call(() -> free(im));
    }

    /**
     * The image a multi attach or detach replaced on {@code tr} ({@code multiOldImage}), once the
     * site calls the new one: {@link #put}, whichever design's multi link replaced it. Nothing if
     * the update kept the image.
     */
    void retireReplaced(BpfTrampoline tr) {
        BpfTrampImage old = tr.multiOldImage;
        tr.multiOldImage = null;
        if (old == null || old == tr.cur) {
            return;
        }
        if (retireAsUnpublished) {
            // Broken on purpose: the free of an image no site ever called, for one a call may be in.
            freeUnpublished(old);
            return;
        }
        put(old);
    }

    /** {@code bpf_tramp_image_free} of an image no call site ever called (a failed attach's). */
    void freeUnpublished(BpfTrampImage im) {
        im.pcref.exit();
        kernel.allocator().free(im, "bpf_tramp_image_free");
    }

    /** {@code bpf_tramp_image_free} of a retired image. */
    private void free(BpfTrampImage im) {
        freeUnpublished(im);
        retiring.decrementAndGet();
    }

    /** Images put but not yet freed (waiting for grace periods or in-flight origin calls). */
    long retiring() {
        return retiring.get();
    }
}
