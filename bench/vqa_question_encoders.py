"""Benchmark: VQA accuracy with the trained question encoder and with the frozen MiniLM (the `.[text]` extra) on the
quickstart's GQA-style sets, read as `csip_quickstart` reads them.

    python bench/vqa_question_encoders.py --scenes runs/cpu/scenes     # the scenes of a quickstart run
    python bench/vqa_question_encoders.py                              # generates the default scenes first (minutes)

Image features: the pairs' own force banners (the quickstart's reference row), and zeros (the question-only
baseline). Each (features, question encoder) runs `vqa_benchmark` with the quickstart's `VQAConfig` and head seeds; one
line per run: mean ± std and the values. MiniLM's question vectors are cached in --cache (a second run reuses them).
"""
import argparse, time
from dataclasses import replace
from pathlib import Path
import numpy as np
from csip.scenes import make_default_scenes, scene_paths
from csip.quickstart import PRESETS
from csip.evaluate.features import pair_banners
from csip.evaluate.suite import load_datasets
from csip.evaluate.vqa import vqa_benchmark, yes_no_questions

def vqa_sets(paths, cfg):
    "`{'train': (banners, questions, answers, types), 'val': ...}` of the yes/no questions that name their pair."
    (sets, _), out = load_datasets(gqa=paths['gqa']), {}
    for split in ('train', 'val'):
        questions, pairs = sets['gqa'][split]
        by_id = {p.pair_id: p for p in pairs}
        qs = yes_no_questions(questions)
        x = pair_banners([by_id[q.pair_id] for q in qs], cfg.cache).reshape(len(qs), -1)
        out[split] = (x, [q.question for q in qs], [q.answer for q in qs], [q.detailed for q in qs])
    return out

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--scenes', help='a scenes folder (default: generate the default scenes in data/generated/scenes)')
    p.add_argument('--cache', default='data/generated/minilm_cache', help='folder for the cached MiniLM vectors')
    a = p.parse_args()
    cfg = PRESETS['cpu']
    paths = scene_paths(a.scenes) if a.scenes else make_default_scenes('data/generated/scenes', cfg.scenes)
    data = vqa_sets(paths, cfg)
    print(f"yes/no questions: train {len(data['train'][1])}, val {len(data['val'][1])} "
          f"({len(set(data['val'][1]))} distinct)")
    for features in ('banners', 'zeros'):
        tr, te = data['train'], data['val']
        if features == 'zeros': tr, te = (np.zeros_like(tr[0]), *tr[1:]), (np.zeros_like(te[0]), *te[1:])
        for encoder in ('trained', 'minilm'):
            t0 = time.time()
            config = replace(cfg.vqa, question_encoder=encoder)
            r = vqa_benchmark(tr[:3], te, config, seeds=cfg.seeds, cache_dir=a.cache)
            acc = r['accuracy']
            print(f"{features:8s} {r['question_encoder']:8s} VQA accuracy {acc['mean']:.3f} ± {acc['std']:.3f} "
                  f"{np.round(acc['values'], 3).tolist()} ({time.time() - t0:.0f} s)", flush=True)

if __name__ == '__main__': main()
