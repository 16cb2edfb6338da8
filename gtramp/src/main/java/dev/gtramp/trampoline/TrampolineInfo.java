package dev.gtramp.trampoline;

import java.util.List;

/**
 * What a trampoline holds, as {@code bpftool} would show it.
 *
 * @param function     the traced function
 * @param links        links using the trampoline ({@code refcnt})
 * @param programOrder the current image's programs in the order a call runs them, each as
 *                     {@code "fentry:name"}, {@code "fmod_ret:name"} or {@code "fexit:name"}; empty
 *                     without an image
 * @param callsOrigin  whether the image calls the function itself ({@code BPF_TRAMP_F_CALL_ORIG})
 */
public record TrampolineInfo(String function, int links, List<String> programOrder, boolean callsOrigin) {
    static TrampolineInfo of(BpfTrampoline tr) {
        tr.mutex.lock();
        try {
            BpfTrampImage im = tr.cur;
            return new TrampolineInfo(tr.function.name(), tr.refcnt,
                    im == null ? List.of() : List.copyOf(im.programOrder()), im != null && im.callsOrigin());
        } finally {
            tr.mutex.unlock();
        }
    }
}
