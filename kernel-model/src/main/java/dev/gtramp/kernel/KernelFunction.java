package dev.gtramp.kernel;

import dev.gtramp.kernel.btf.FunctionPrototype;
import dev.gtramp.kernel.image.ImageFunction;

import java.util.Objects;

/**
 * A function of a running {@link Kernel}: an {@link ImageFunction} with an {@link EntrySite} and a
 * {@link FunctionBody}. Every function with an address has one; only traceable ones
 * ({@link #isTraceable()}) may have their site patched.
 */
public final class KernelFunction {
    private final Kernel kernel;
    private final ImageFunction image;
    private final long ip;
    private final int argWords;
    private final EntrySite site;

    KernelFunction(Kernel kernel, ImageFunction image, EntrySite site) {
        this.kernel = kernel;
        this.image = image;
        this.ip = image.ip();
        this.argWords = image.prototype().argSlots();
        this.site = site;
        site.setFunction(this);
    }

    public Kernel kernel() {
        return kernel;
    }

    public String name() {
        return image.name();
    }

    /** The entry address. */
    public long ip() {
        return ip;
    }

    public FunctionPrototype prototype() {
        return image.prototype();
    }

    /** The image entry this function was created from, with its traceability decision. */
    public ImageFunction imageFunction() {
        return image;
    }

    /** The number of argument words a call passes ({@link FunctionPrototype#argSlots()}). */
    public int argWords() {
        return argWords;
    }

    /** Whether ftrace has a patch site for this function. */
    public boolean isTraceable() {
        return image.isTraceable();
    }

    /** The entry site, shared with any alias at the same address. */
    public EntrySite site() {
        return site;
    }

    /** The current body (the site's: aliases share it). */
    public FunctionBody body() {
        return site.body();
    }

    /**
     * Replaces the body, for this function and its aliases; calls already inside the old body
     * finish in it.
     */
    public void setBody(FunctionBody body) {
        site.setBody(Objects.requireNonNull(body, "body"));
    }

    @Override
    public String toString() {
        return String.format("%s [%#x]", name(), ip);
    }
}
