import type { Schedule } from '../successive-halving';

// Hand-worked: 9 trials, eta 3, budgets 1 / 3 / 9.
export const R0 = [0.5, 0.9, 0.1, 0.7, 0.3, 0.8, 0.2, 0.6, 0.4];
export const R1: Record<number, number> = { 1: 0.91, 5: 0.95, 3: 0.93, 2: 0.15, 6: 0.25, 4: 0.2 };
export const R2: Record<number, number> = { 5: 0.97, 2: 0.3 };
export const value = (t: number, r: number) => (r === 0 ? (R0[t] as number) : r === 1 ? (R1[t] ?? NaN) : (R2[t] ?? NaN));
export const sched = (over: Partial<Schedule> = {}): Schedule => ({ trials: 9, rungs: 3, eta: 3, direction: 'maximize', ...over });
