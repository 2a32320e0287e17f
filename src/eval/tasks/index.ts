// The one place that maps a task's output_type to the code that scores it.
import type { TaskDefinition } from '../task-schema';
import type { TaskRunner } from './context';
import { generateUntil } from './generate-until';
import { loglikelihood } from './loglikelihood';
import { multipleChoice } from './multiple-choice';
import { rolling } from './rolling';

export const TASK_RUNNERS = {
  loglikelihood_rolling: rolling,
  multiple_choice: multipleChoice,
  loglikelihood,
  generate_until: generateUntil,
} satisfies { [K in TaskDefinition['output_type']]: TaskRunner<Extract<TaskDefinition, { output_type: K }>> };

export function runnerFor<T extends TaskDefinition>(task: T): TaskRunner<T> {
  return TASK_RUNNERS[task.output_type] as unknown as TaskRunner<T>;
}
