#include "pxt_hnsw.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct pxt_hnsw {
    int dim;
    std::unique_ptr<hnswlib::SpaceInterface<float>> space;
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
};

static void set_error(char *err, size_t errlen, const char *what) {
    if (err && errlen) snprintf(err, errlen, "%s", what);
}

static hnswlib::SpaceInterface<float> *make_space(int dim, int space) {
    if (space == PXT_HNSW_IP) return new hnswlib::InnerProductSpace(dim);
    return new hnswlib::L2Space(dim);
}

extern "C" pxt_hnsw *pxt_hnsw_new(int dim, int space, size_t capacity, int m, int ef_construction, unsigned seed, char *err, size_t errlen) {
    try {
        auto h = std::make_unique<pxt_hnsw>();
        h->dim = dim;
        h->space.reset(make_space(dim, space));
        h->graph.reset(new hnswlib::HierarchicalNSW<float>(h->space.get(), std::max<size_t>(capacity, 16), m, ef_construction, seed));
        return h.release();
    } catch (const std::exception &e) {
        set_error(err, errlen, e.what());
    } catch (...) {
        set_error(err, errlen, "unknown error creating the graph");
    }
    return nullptr;
}

// The header hnswlib writes first: offsets, counts and sizes (saveIndex's order).
struct saved_header {
    size_t offset_level0, max_elements, count, size_per_element, label_offset, offset_data;
};

extern "C" pxt_hnsw *pxt_hnsw_load(const char *path, int dim, int space, char *err, size_t errlen) {
    try {
        // hnswlib trusts the file's sizes; check that they describe vectors of this dimension
        // before it allocates and reads by them.
        FILE *f = fopen(path, "rb");
        if (!f) {
            set_error(err, errlen, "cannot open the saved graph");
            return nullptr;
        }
        saved_header hd;
        size_t got = fread(&hd, sizeof(size_t), 6, f);
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fclose(f);
        size_t data_size = sizeof(float) * (size_t)dim;
        if (got != 6 || size < 0 || hd.label_offset != hd.offset_data + data_size ||
            hd.size_per_element != hd.label_offset + sizeof(hnswlib::labeltype) || hd.count > hd.max_elements ||
            hd.count > (size_t)size / std::max<size_t>(1, hd.size_per_element)) {
            set_error(err, errlen, "the saved graph does not match this index (dimension or size)");
            return nullptr;
        }
        auto h = std::make_unique<pxt_hnsw>();
        h->dim = dim;
        h->space.reset(make_space(dim, space));
        // hnswlib 0.6's loading constructor leaves the deleted count uninitialized (loadIndex
        // adds to it), so load into an empty graph whose fields are zeroed first.
        auto *g = new hnswlib::HierarchicalNSW<float>(h->space.get());
        g->num_deleted_ = 0;
        g->cur_element_count = 0;
        g->data_level0_memory_ = nullptr;
        g->linkLists_ = nullptr;
        g->visited_list_pool_ = nullptr;
        try {
            g->loadIndex(std::string(path), h->space.get(), 0);
        } catch (...) {
            // A half-loaded graph cannot be destroyed safely (its sizes are read, its arrays
            // not all allocated): it is left, which leaks it, rather than freed.
            throw;
        }
        h->graph.reset(g);
        return h.release();
    } catch (const std::exception &e) {
        set_error(err, errlen, e.what());
    } catch (...) {
        set_error(err, errlen, "unknown error loading the graph");
    }
    return nullptr;
}

extern "C" int pxt_hnsw_save(pxt_hnsw *h, const char *path, char *err, size_t errlen) {
    try {
        h->graph->saveIndex(std::string(path));
        return 0;
    } catch (const std::exception &e) {
        set_error(err, errlen, e.what());
    } catch (...) {
        set_error(err, errlen, "unknown error saving the graph");
    }
    return -1;
}

extern "C" int pxt_hnsw_add(pxt_hnsw *h, const float *vectors, const uint64_t *labels, size_t n, int threads, char *err, size_t errlen) {
    auto &g = *h->graph;
    try {
        size_t need = g.cur_element_count + n;
        if (need > g.max_elements_) g.resizeIndex(std::max(need, g.max_elements_ + g.max_elements_ / 2));
    } catch (const std::exception &e) {
        set_error(err, errlen, e.what());
        return -1;
    }
    // addPoint locks what it touches, so inserts run in parallel, each thread taking the next
    // unclaimed vector.
    std::atomic<size_t> next(0);
    std::mutex failure;
    std::string message;
    auto work = [&]() {
        for (;;) {
            size_t i = next.fetch_add(1);
            if (i >= n) return;
            try {
                g.addPoint(vectors + i * (size_t)h->dim, (hnswlib::labeltype)labels[i]);
            } catch (const std::exception &e) {
                std::lock_guard<std::mutex> lock(failure);
                if (message.empty()) message = e.what();
                next.store(n);
            }
        }
    };
    int t = std::max(1, std::min(threads, (int)std::max<size_t>(1, n / 64)));
    std::vector<std::thread> pool;
    for (int i = 1; i < t; i++) pool.emplace_back(work);
    work();
    for (auto &th : pool) th.join();
    if (!message.empty()) {
        set_error(err, errlen, message.c_str());
        return -1;
    }
    return 0;
}

extern "C" int pxt_hnsw_mark_deleted(pxt_hnsw *h, uint64_t label) {
    try {
        h->graph->markDelete((hnswlib::labeltype)label);
        return 0;
    } catch (...) {
        return -1;
    }
}

extern "C" void pxt_hnsw_set_ef(pxt_hnsw *h, size_t ef) { h->graph->setEf(ef); }

extern "C" size_t pxt_hnsw_search(const pxt_hnsw *h, const float *query, size_t k, uint64_t *labels, float *distances) {
    try {
        auto result = h->graph->searchKnn(query, k);
        size_t count = result.size();
        // The queue pops the farthest first.
        for (size_t i = count; i > 0; i--) {
            labels[i - 1] = (uint64_t)result.top().second;
            distances[i - 1] = result.top().first;
            result.pop();
        }
        return count;
    } catch (...) {
        return 0;
    }
}

extern "C" size_t pxt_hnsw_labels(const pxt_hnsw *h, uint64_t *out, size_t capacity) {
    auto &g = *h->graph;
    size_t n = 0;
    for (size_t i = 0; i < g.cur_element_count; i++) {
        if (g.isMarkedDeleted((hnswlib::tableint)i)) continue;
        if (n < capacity) out[n] = (uint64_t)g.getExternalLabel((hnswlib::tableint)i);
        n++;
    }
    return n;
}

extern "C" size_t pxt_hnsw_live_count(const pxt_hnsw *h) { return h->graph->cur_element_count - h->graph->num_deleted_; }

extern "C" size_t pxt_hnsw_total_count(const pxt_hnsw *h) { return h->graph->cur_element_count; }

extern "C" void pxt_hnsw_free(pxt_hnsw *h) { delete h; }
