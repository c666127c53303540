import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PigeonholeStack } from './pigeonhole-stack';

const app = new App();
new PigeonholeStack(app, 'Pigeonhole', {
  description: 'Pigeonhole: serverless offline-message service (WebSocket API, Lambda, DynamoDB)',
});
// cdk-nag's AwsSolutions pack runs on every synth; each acknowledged finding carries its reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
