;; The head of a next-token distribution straight from one row of float32 logits: `top`, the k
;; largest logits (descending, ties to the lower index: math/top-k.ts's topTokens), and `sums`,
;; the sums of the temperature softmax (the same operations in the same order as
;; tempo/distribution.ts's shiftedExp with math/fast-exp.ts's fastExp, so the same bits).
;; head-kernel.ts lays out the memory, passes the constants and checks the bits in its tests.
;; Assemble with `npm run build:kernel` (wabt); the binary ships as src/engine/math/head-kernel.wasm.ts.
(module
  (import "fastExp" "exp" (func $mathExp (param f64) (result f64)))
  (import "fastExp" "low" (global $low f64))
  (import "fastExp" "high" (global $high f64))
  (import "fastExp" "toSteps" (global $toSteps f64))
  (import "fastExp" "stepHi" (global $stepHi f64))
  (import "fastExp" "stepLo" (global $stepLo f64))
  (import "fastExp" "round" (global $round f64))
  (import "fastExp" "c2" (global $c2 f64))
  (import "fastExp" "c3" (global $c3 f64))
  (import "fastExp" "c4" (global $c4 f64))
  (import "fastExp" "tableBits" (global $tableBits i32))
  (import "fastExp" "tableMask" (global $tableMask i32))
  (import "fastExp" "powOffset" (global $powOffset i32))
  (import "layout" "fractionAt" (global $fractionAt i32))
  (import "layout" "integerAt" (global $integerAt i32))
  (import "layout" "topIdsAt" (global $topIdsAt i32))
  (import "layout" "topValsAt" (global $topValsAt i32))
  (import "layout" "sumsAt" (global $sumsAt i32))
  (import "layout" "logitsAt" (global $logitsAt i32))
  (import "layout" "memory" (memory 1))

  ;; fastExp, operation for operation.
  (func $fastExp (param $x f64) (result f64)
    (local $n f64) (local $r f64) (local $r2 f64) (local $steps i32)
    (if (i32.eqz (i32.and (f64.gt (local.get $x) (global.get $low)) (f64.lt (local.get $x) (global.get $high))))
      (then (return (call $mathExp (local.get $x)))))
    (local.set $n (f64.sub (f64.add (f64.mul (local.get $x) (global.get $toSteps)) (global.get $round)) (global.get $round)))
    (local.set $r (f64.sub (f64.sub (local.get $x) (f64.mul (local.get $n) (global.get $stepHi))) (f64.mul (local.get $n) (global.get $stepLo))))
    (local.set $steps (i32.trunc_f64_s (local.get $n)))
    (local.set $r2 (f64.mul (local.get $r) (local.get $r)))
    (f64.mul
      (f64.load (i32.add (global.get $integerAt)
        (i32.shl (i32.add (i32.shr_s (local.get $steps) (global.get $tableBits)) (global.get $powOffset)) (i32.const 3))))
      (f64.mul
        (f64.load (i32.add (global.get $fractionAt) (i32.shl (i32.and (local.get $steps) (global.get $tableMask)) (i32.const 3))))
        (f64.add
          (f64.add (f64.const 1) (local.get $r))
          (f64.mul (local.get $r2)
            (f64.add (f64.add (global.get $c2) (f64.mul (local.get $r) (global.get $c3))) (f64.mul (local.get $r2) (global.get $c4))))))))

  ;; top-k.ts's insertTop on the buffers at topIdsAt / topValsAt: returns the new count.
  (func $insertTop (param $filled i32) (param $k i32) (param $v f32) (param $i i32) (result i32)
    (local $j i32) (local $at i32)
    (if (i32.lt_u (local.get $filled) (local.get $k))
      (then (local.set $j (local.get $filled)) (local.set $filled (i32.add (local.get $filled) (i32.const 1))))
      (else (local.set $j (i32.sub (local.get $k) (i32.const 1)))))
    (block $placed
      (loop $shift
        (br_if $placed (i32.eqz (local.get $j)))
        (local.set $at (i32.shl (i32.sub (local.get $j) (i32.const 1)) (i32.const 2)))
        (br_if $placed (i32.eqz (f32.gt (local.get $v) (f32.load (i32.add (global.get $topValsAt) (local.get $at))))))
        (f32.store (i32.add (global.get $topValsAt) (i32.add (local.get $at) (i32.const 4))) (f32.load (i32.add (global.get $topValsAt) (local.get $at))))
        (i32.store (i32.add (global.get $topIdsAt) (i32.add (local.get $at) (i32.const 4))) (i32.load (i32.add (global.get $topIdsAt) (local.get $at))))
        (local.set $j (i32.sub (local.get $j) (i32.const 1)))
        (br $shift)))
    (f32.store (i32.add (global.get $topValsAt) (i32.shl (local.get $j) (i32.const 2))) (local.get $v))
    (i32.store (i32.add (global.get $topIdsAt) (i32.shl (local.get $j) (i32.const 2))) (local.get $i))
    (local.get $filled))

  ;; The entries >= the bar at index i (the list is full), as topTokens's second loop: each may raise the bar.
  (func $offer (param $k i32) (param $i i32) (param $bar f32) (result f32)
    (local $v f32)
    (local.set $v (f32.load (i32.add (global.get $logitsAt) (i32.shl (local.get $i) (i32.const 2)))))
    (if (f32.gt (local.get $v) (local.get $bar))
      (then
        (drop (call $insertTop (local.get $k) (local.get $k) (local.get $v) (local.get $i)))
        (local.set $bar (f32.load (i32.add (global.get $topValsAt) (i32.shl (i32.sub (local.get $k) (i32.const 1)) (i32.const 2)))))))
    (local.get $bar))

  ;; Logits at logitsAt (n of them), 1 <= k <= n: the k largest into topIdsAt, descending, ties to
  ;; the lower index (topTokens). Returns how many: fewer than k only when entries are NaN.
  (func (export "top") (param $n i32) (param $k i32) (result i32)
    (local $i i32) (local $filled i32) (local $v f32) (local $bar f32)
    ;; Filling: every entry but NaN enters until k are held.
    (block $full
      (loop $fill
        (br_if $full (i32.ge_u (local.get $i) (local.get $n)))
        (br_if $full (i32.ge_u (local.get $filled) (local.get $k)))
        (local.set $v (f32.load (i32.add (global.get $logitsAt) (i32.shl (local.get $i) (i32.const 2)))))
        (if (f32.ge (local.get $v) (f32.const -inf))
          (then (local.set $filled (call $insertTop (local.get $filled) (local.get $k) (local.get $v) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $fill)))
    ;; Full (or i = n: NaN kept it short): four entries at a time against the bar; only a group that beats it goes one by one.
    (local.set $bar (f32.load (i32.add (global.get $topValsAt) (i32.shl (i32.sub (local.get $k) (i32.const 1)) (i32.const 2)))))
    (block $quads
      (loop $quad
        (br_if $quads (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        (if (v128.any_true (f32x4.gt (v128.load (i32.add (global.get $logitsAt) (i32.shl (local.get $i) (i32.const 2)))) (f32x4.splat (local.get $bar))))
          (then
            (local.set $bar (call $offer (local.get $k) (local.get $i) (local.get $bar)))
            (local.set $bar (call $offer (local.get $k) (i32.add (local.get $i) (i32.const 1)) (local.get $bar)))
            (local.set $bar (call $offer (local.get $k) (i32.add (local.get $i) (i32.const 2)) (local.get $bar)))
            (local.set $bar (call $offer (local.get $k) (i32.add (local.get $i) (i32.const 3)) (local.get $bar)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $quad)))
    (block $tail
      (loop $rest
        (br_if $tail (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $bar (call $offer (local.get $k) (local.get $i) (local.get $bar)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest)))
    (local.get $filled))

  ;; Logits at logitsAt (n of them): the sums of their softmax at sumsAt, [sum of e_i, sum of
  ;; e_i * x_i over e_i > 0, max], x_i = (logit_i - max) * scale, e_i = fastExp(x_i) (shiftedExp).
  (func (export "sums") (param $n i32) (param $scale f64)
    (local $i i32) (local $max f64) (local $x f64) (local $e f64) (local $sum f64) (local $weighted f64)
    (local $maxQ v128) (local $lowV v128) (local $highV v128) (local $toStepsV v128) (local $roundV v128) (local $stepHiV v128) (local $stepLoV v128)
    (local $oneV v128) (local $c2V v128) (local $c3V v128) (local $c4V v128) (local $biasV v128) (local $nV v128) (local $rV v128) (local $r2V v128) (local $stepsV v128) (local $m f32) (local $maxV v128) (local $scaleV v128) (local $xV v128) (local $eV v128) (local $wV v128)
    ;; The maximum, NaN passed over (pmax keeps the lane's value when the entry is NaN), as shiftedExp's loop.
    (local.set $maxQ (f32x4.splat (f32.const -inf)))
    (block $quadsDone
      (loop $quad
        (br_if $quadsDone (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $n)))
        (local.set $maxQ (f32x4.pmax (local.get $maxQ) (v128.load (i32.add (global.get $logitsAt) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $quad)))
    (block $restDone
      (loop $rest
        (br_if $restDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $maxQ (f32x4.pmax (local.get $maxQ) (f32x4.splat (f32.load (i32.add (global.get $logitsAt) (i32.shl (local.get $i) (i32.const 2)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest)))
    (local.set $m (f32.max (f32.max (f32x4.extract_lane 0 (local.get $maxQ)) (f32x4.extract_lane 1 (local.get $maxQ)))
                           (f32.max (f32x4.extract_lane 2 (local.get $maxQ)) (f32x4.extract_lane 3 (local.get $maxQ)))))
    (local.set $max (f64.promote_f32 (local.get $m)))
    ;; The sums, in index order: exponentials two at a time (fastExp's operations on both lanes),
    ;; added one by one so that the rounding is the sequential loop's.
    (local.set $maxV (f64x2.splat (local.get $max)))
    (local.set $lowV (f64x2.splat (global.get $low)))
    (local.set $highV (f64x2.splat (global.get $high)))
    (local.set $toStepsV (f64x2.splat (global.get $toSteps)))
    (local.set $roundV (f64x2.splat (global.get $round)))
    (local.set $stepHiV (f64x2.splat (global.get $stepHi)))
    (local.set $stepLoV (f64x2.splat (global.get $stepLo)))
    (local.set $oneV (f64x2.splat (f64.const 1)))
    (local.set $c2V (f64x2.splat (global.get $c2)))
    (local.set $c3V (f64x2.splat (global.get $c3)))
    (local.set $c4V (f64x2.splat (global.get $c4)))
    (local.set $biasV (i32x4.splat (i32.const 1023)))
    (local.set $scaleV (f64x2.splat (local.get $scale)))
    (local.set $i (i32.const 0))
    (block $pairsDone
      (loop $pair
        (br_if $pairsDone (i32.gt_u (i32.add (local.get $i) (i32.const 2)) (local.get $n)))
        (local.set $xV (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (global.get $logitsAt) (i32.shl (local.get $i) (i32.const 2))))) (local.get $maxV)) (local.get $scaleV)))
        (if (i64x2.all_true (v128.and (f64x2.gt (local.get $xV) (local.get $lowV)) (f64x2.lt (local.get $xV) (local.get $highV))))
          (then
            ;; fastExp on both lanes, written out here (V8 does not inline a call in this loop),
            ;; with the constants splatted once before it.
            (local.set $nV (f64x2.sub (f64x2.add (f64x2.mul (local.get $xV) (local.get $toStepsV)) (local.get $roundV)) (local.get $roundV)))
            (local.set $rV (f64x2.sub (f64x2.sub (local.get $xV) (f64x2.mul (local.get $nV) (local.get $stepHiV))) (f64x2.mul (local.get $nV) (local.get $stepLoV))))
            (local.set $stepsV (i32x4.trunc_sat_f64x2_s_zero (local.get $nV)))
            (local.set $r2V (f64x2.mul (local.get $rV) (local.get $rV)))
            ;; INTEGER_POW[(s >> tableBits) + powOffset] is 2^(s >> tableBits), a normal number
            ;; inside (low, high): its bits are that exponent plus 1023, shifted into place (the
            ;; shift done on 32-bit lanes). The fraction table is read lane by lane.
            (local.set $eV
              (f64x2.mul
                (i64x2.shl (i64x2.extend_low_i32x4_s (i32x4.add (i32x4.shr_s (local.get $stepsV) (global.get $tableBits)) (local.get $biasV))) (i32.const 52))
                (f64x2.mul
                  (f64x2.replace_lane 1
                    (f64x2.splat (f64.load (i32.add (global.get $fractionAt) (i32.shl (i32.and (i32x4.extract_lane 0 (local.get $stepsV)) (global.get $tableMask)) (i32.const 3)))))
                    (f64.load (i32.add (global.get $fractionAt) (i32.shl (i32.and (i32x4.extract_lane 1 (local.get $stepsV)) (global.get $tableMask)) (i32.const 3)))))
                  (f64x2.add
                    (f64x2.add (local.get $oneV) (local.get $rV))
                    (f64x2.mul (local.get $r2V)
                      (f64x2.add (f64x2.add (local.get $c2V) (f64x2.mul (local.get $rV) (local.get $c3V))) (f64x2.mul (local.get $r2V) (local.get $c4V)))))))))
          (else (local.set $eV (f64x2.replace_lane 1
            (f64x2.splat (call $fastExp (f64x2.extract_lane 0 (local.get $xV))))
            (call $fastExp (f64x2.extract_lane 1 (local.get $xV)))))))
        (local.set $wV (f64x2.mul (local.get $eV) (local.get $xV)))
        (local.set $e (f64x2.extract_lane 0 (local.get $eV)))
        (local.set $sum (f64.add (local.get $sum) (local.get $e)))
        (if (f64.gt (local.get $e) (f64.const 0)) (then (local.set $weighted (f64.add (local.get $weighted) (f64x2.extract_lane 0 (local.get $wV))))))
        (local.set $e (f64x2.extract_lane 1 (local.get $eV)))
        (local.set $sum (f64.add (local.get $sum) (local.get $e)))
        (if (f64.gt (local.get $e) (f64.const 0)) (then (local.set $weighted (f64.add (local.get $weighted) (f64x2.extract_lane 1 (local.get $wV))))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pair)))
    (if (i32.lt_u (local.get $i) (local.get $n))
      (then
        (local.set $x (f64.mul (f64.sub (f64.promote_f32 (f32.load (i32.add (global.get $logitsAt) (i32.shl (local.get $i) (i32.const 2))))) (local.get $max)) (local.get $scale)))
        (local.set $e (call $fastExp (local.get $x)))
        (local.set $sum (f64.add (local.get $sum) (local.get $e)))
        (if (f64.gt (local.get $e) (f64.const 0)) (then (local.set $weighted (f64.add (local.get $weighted) (f64.mul (local.get $e) (local.get $x))))))))
    (f64.store (global.get $sumsAt) (local.get $sum))
    (f64.store (i32.add (global.get $sumsAt) (i32.const 8)) (local.get $weighted))
    (f64.store (i32.add (global.get $sumsAt) (i32.const 16)) (local.get $max)))
)
