//! Test harness: runs one component of a tiny graph outside the actor runtime.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value as Json};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::graph::{CompiledGraph, FlowBuilder, OverrideRequest};
use crate::store::messages::MessageStore;
use crate::store::Store;

use super::{
    implementation, BodyRunner, BoxFuture, BuildEvent, BuildShared, CancelToken, ComponentContext, ComponentError,
    InputSlot, Inputs, Mode, OutputLimits, Outputs, Value,
};

/// Loop bodies need the engine; the harness runs single components only.
struct NoBodies;

impl BodyRunner for NoBodies {
    fn run_body<'a>(
        &'a self,
        _ctx: &'a ComponentContext,
        _inputs: &'a Inputs,
        _item: Value,
    ) -> BoxFuture<'a, Result<Option<Value>, ComponentError>> {
        Box::pin(std::future::ready(Err(ComponentError::failed("the test harness runs no Loop bodies"))))
    }
}

pub(crate) struct Harness {
    shared: Arc<BuildShared>,
    rx: mpsc::Receiver<BuildEvent>,
    store: MessageStore,
}

impl Harness {
    /// A one-node graph `<type>-1`.
    pub fn single(type_name: &str, fields: Json) -> Self {
        let mut b = FlowBuilder::new();
        b.node(&format!("{type_name}-1"), type_name, fields);
        Self::from_flow(&b.build())
    }

    /// `<a>-1.out → <b>-1.field`.
    pub fn pair(a: &str, a_fields: Json, out: &str, b: &str, b_fields: Json, field: &str) -> Self {
        let mut fb = FlowBuilder::new();
        fb.node(&format!("{a}-1"), a, a_fields).node(&format!("{b}-1"), b, b_fields);
        fb.edge(&format!("{a}-1"), out, &format!("{b}-1"), field);
        Self::from_flow(&fb.build())
    }

    #[allow(clippy::unwrap_used)]
    pub fn from_flow(flow: &Json) -> Self {
        let graph = Arc::new(CompiledGraph::parse(flow).unwrap());
        let params = graph.overrides(OverrideRequest::default()).unwrap().params;
        let subset = graph.full_subset().clone();
        let store = MessageStore::open(&Store::temporary().unwrap()).unwrap();
        let (tx, rx) = mpsc::channel(64);
        let flow_id = Uuid::new_v4();
        let shared = Arc::new(BuildShared {
            graph,
            params,
            subset,
            mode: Mode::Run,
            flow_id,
            user_id: None,
            session_id: flow_id.to_string(),
            run_id: Uuid::new_v4(),
            variables: HashMap::new(),
            environment_variables: std::collections::HashSet::new(),
            messages: Some(store.clone()),
            events: tx,
            quiet: false,
            cancel: CancelToken::new(),
            llm: Arc::new(crate::llm::LlmRuntime::new(crate::llm::LlmSettings::default())),
            limits: OutputLimits::default(),
            tools: super::ToolSettings::default(),
            files: None,
            bodies: &NoBodies,
        });
        Self { shared, rx, store }
    }

    #[allow(clippy::unwrap_used)]
    pub async fn run(&mut self, id: &str, inputs: Vec<(&str, Value)>) -> Result<Outputs, ComponentError> {
        let v = self.shared.graph.index_of(id).unwrap();
        let slots = inputs
            .into_iter()
            .enumerate()
            .map(|(i, (field, value))| InputSlot { edge: i, target: v, field: Arc::from(field), value: Some(value) })
            .collect();
        let ctx = ComponentContext::new(self.shared.clone(), v);
        let inputs = Inputs::new(v, slots);
        implementation(self.shared.graph.vertices[v].kind).run(&ctx, &inputs).await
    }

    pub fn next_event(&mut self) -> Option<BuildEvent> {
        self.rx.try_recv().ok()
    }

    pub fn store(&self) -> &MessageStore {
        &self.store
    }

    pub fn flow_id(&self) -> Uuid {
        self.shared.flow_id
    }

    pub fn session(&self) -> &str {
        &self.shared.session_id
    }

    pub fn cancel(&self) {
        self.shared.cancel.cancel();
    }

    #[allow(dead_code)]
    pub fn empty() -> Json {
        json!({})
    }
}
