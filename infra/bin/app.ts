import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addStageStacks } from '../stages.js';

// `npx cdk synth|deploy -c stage=prod`: one stack per stage (all of cdk.json's without -c stage).
const app = new App();
addStageStacks(app);
// Any unacknowledged AWS Solutions finding fails synthesis, so it fails deployment too.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
